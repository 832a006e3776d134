import { render, TemplateError } from '../../src/domain/template';

/** Incident data placed into URL templates stays in the part of the URL it was placed in. */
describe('render into URL parameters', () => {
  const scope = {
    incident: {
      context: {
        service: 'checkout',
        traversal: '../../etc/passwd',
        dots: '..',
        dot: '.',
        backslash: '..\\..\\windows',
        query: 'a b&admin=true#frag',
        host: '169.254.169.254',
        userinfo: '127.0.0.1@169.254.169.254',
        hostPath: '127.0.0.1/admin',
        port: 8080,
        unicode: 'café ☕',
      },
    },
  };
  const at = 'steps[0].params.url';

  it('encodes a value in the path or query so it cannot add segments or parameters', () => {
    expect(render('http://127.0.0.1:9/services/{{incident.context.service}}/capacity', scope, at)).toBe('http://127.0.0.1:9/services/checkout/capacity');
    expect(render('http://127.0.0.1:9/s?q={{incident.context.query}}', scope, at)).toBe('http://127.0.0.1:9/s?q=a%20b%26admin%3Dtrue%23frag');
    expect(render('http://127.0.0.1:9/s/{{incident.context.unicode}}', scope, at)).toBe('http://127.0.0.1:9/s/caf%C3%A9%20%E2%98%95');
    expect(render('http://127.0.0.1:9/s#{{incident.context.traversal}}', scope, at)).toBe('http://127.0.0.1:9/s#..%2F..%2Fetc%2Fpasswd');
  });

  it.each(['traversal', 'dots', 'dot', 'backslash'])('refuses the path value %p, which would climb or add segments', (key) => {
    expect(() => render(`http://127.0.0.1:9/services/{{incident.context.${key}}}/capacity`, scope, at)).toThrow(TemplateError);
    expect(() => render(`https://127.0.0.1:9/{{incident.context.${key}}}`, scope, 'params.compensate.url')).toThrow(/would change the URL's path/);
  });

  it('lets a host part through only if it cannot end the host; the allowlist judges the host', () => {
    expect(render('http://{{incident.context.host}}/x', scope, at)).toBe('http://169.254.169.254/x');
    expect(render('http://127.0.0.1:{{incident.context.port}}/x', scope, 'params.pushUrl')).toBe('http://127.0.0.1:8080/x');
    expect(() => render('http://{{incident.context.userinfo}}/x', scope, at)).toThrow(/would change where the URL points/);
    expect(() => render('http://{{incident.context.hostPath}}/x', scope, 'params.healthUrl')).toThrow(TemplateError);
  });

  it('only parameters named like URLs, holding http(s) URLs, are treated as URLs', () => {
    expect(render('see http://x/{{incident.context.traversal}}', scope, 'params.message')).toBe('see http://x/../../etc/passwd');
    expect(render('http://x/{{incident.context.traversal}}', scope, 'params.message')).toBe('http://x/../../etc/passwd');
    expect(render('{{incident.context.traversal}}', scope, at)).toBe('../../etc/passwd'); // a whole-value template: the URL is the value, judged as a whole
  });
});
