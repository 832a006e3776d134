import { TRACE_HEADER as PACKAGE_TRACE_HEADER } from '@temporalio/interceptors-opentelemetry/lib/instrumentation';
import { exportSettings, tracingRequested } from '../../src/tracing';
import { TRACE_HEADER } from '../../src/workflows/interceptors';

describe('tracing configuration (OTEL_* variables)', () => {
  test('the workflow interceptor looks for the header the OpenTelemetry interceptors write', () => {
    // Kept as a copy so that untraced workflows need not load the package to read it.
    expect(TRACE_HEADER).toBe(PACKAGE_TRACE_HEADER);
  });

  test.each([
    [{}, false],
    [{ OTEL_SERVICE_NAME: 'aire-api' }, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, true],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' }, true],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }, false],
    [{ OTEL_TRACES_EXPORTER: 'otlp' }, true],
    [{ OTEL_TRACES_EXPORTER: 'console' }, true],
    [{ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, false],
    [{ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, false],
    [{ OTEL_SDK_DISABLED: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, true],
  ])('%j: tracing %s', (env, on) => {
    expect(tracingRequested(env)).toBe(on);
  });

  test('OTLP over HTTP with protobuf unless said otherwise', () => {
    expect(exportSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toEqual({ exporters: ['otlp'], protocol: 'http/protobuf' });
    expect(exportSettings({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' })).toEqual({
      exporters: ['otlp'],
      protocol: 'http/json',
    });
    expect(exportSettings({ OTEL_TRACES_EXPORTER: 'otlp, console' }).exporters).toEqual(['otlp', 'console']);
  });

  test.each([
    [{ OTEL_TRACES_EXPORTER: 'zipkin' }, /OTEL_TRACES_EXPORTER.*not zipkin/],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'http' }, /OTEL_EXPORTER_OTLP_PROTOCOL: "http" is not one of/],
  ])('%j is refused at start, naming the variable', (env, message) => {
    expect(() => exportSettings(env)).toThrow(message);
  });
});
