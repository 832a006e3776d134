// AIRE approval console, incident command: who holds which role, the latest status update, the
// confirmed root cause, the acknowledgement deadline, the suggested runbooks to run, notes and status
// updates. Loaded after console.js and built on its helpers (window.AireConsole); like it, it builds
// all DOM as text, never from HTML.
'use strict';

(function () {
  var c = window.AireConsole;
  var $ = c.$;
  var el = c.el;

  /** The suggestions the buttons were built for: rebuilt only when they change, not on every refresh. */
  var shownSuggestions = null;

  function orNone(text) {
    return text || '—';
  }

  function renderRoles(roles) {
    $('role-commander').textContent = orNone(roles.commander);
    $('role-assignees').textContent = orNone((roles.assignees || []).join(', '));
    $('role-comms').textContent = orNone(roles.comms);
    $('role-scribe').textContent = orNone(roles.scribe);
  }

  /** The deadline matters only while nobody has acknowledged an open incident. */
  function renderAckBy(inc, live) {
    var ackBy = live && !live.acknowledged && live.ackBy;
    var open = ['resolved', 'closed'].indexOf(inc.status) < 0;
    $('ack-by-fact').hidden = !(ackBy && open);
    if (!ackBy) return $('incident-ack-by').replaceChildren();
    var shown = [c.timeEl(ackBy)];
    if (new Date(ackBy).getTime() < Date.now()) shown.push(el('span', { className: 'error', text: ' (passed)' }));
    $('incident-ack-by').replaceChildren.apply($('incident-ack-by'), shown);
  }

  function renderRootCause(inc) {
    $('root-cause').textContent = inc.rootCause || 'Not confirmed yet.';
    $('root-cause').className = inc.rootCause ? '' : 'hint';
    // The automatic guess, only while people have not confirmed a cause.
    var hypothesis = !inc.rootCause && inc.rootCauseHypothesis;
    $('root-cause-hypothesis').hidden = !hypothesis;
    $('root-cause-hypothesis').textContent = hypothesis ? 'Hypothesis: ' + hypothesis : '';
    var impact = inc.impact || {};
    var parts = [];
    if (typeof impact.usersAffected === 'number') parts.push(impact.usersAffected + ' users affected');
    if (impact.servicesDegraded && impact.servicesDegraded.length) parts.push('degraded: ' + impact.servicesDegraded.join(', '));
    if (typeof impact.dataExposure === 'boolean') parts.push(impact.dataExposure ? 'data exposed' : 'no data exposure');
    $('impact').hidden = parts.length === 0;
    $('impact').textContent = parts.length ? 'Impact: ' + parts.join('; ') : '';
  }

  function renderStatusUpdate(update) {
    var box = $('status-update');
    if (!update) return box.replaceChildren(el('p', { className: 'hint', text: 'No status update posted yet.' }));
    var meta = [document.createTextNode(update.actor + ', '), c.timeEl(update.at), document.createTextNode(' · ' + update.audience)];
    if (update.eta) meta.push(document.createTextNode(' · ETA '), c.timeEl(update.eta));
    box.replaceChildren(el('blockquote', { className: 'status-message', text: update.message }), el('p', { className: 'hint' }, meta));
  }

  function renderSuggestions(inc, live) {
    var suggestions = inc.suggestions || [];
    var key = JSON.stringify(suggestions) + '|' + inc.runbookId;
    if (key !== shownSuggestions) {
      shownSuggestions = key;
      var items = suggestions.map(function (s) {
        var button = el('button', { type: 'button', 'data-runbook-id': s.runbookId, title: 'match score ' + s.score, text: 'Run ' + s.name });
        var own = s.runbookId === inc.runbookId ? el('span', { className: 'hint', text: "this incident's own runbook" }) : null;
        return el('li', null, [button, el('code', { className: 'id', text: s.runbookId }), own]);
      });
      $('suggestions').replaceChildren.apply($('suggestions'), items);
      $('suggestions-empty').hidden = items.length > 0;
    }
    // Runbooks people ran on the incident after its own, and the prefix of their steps' ids.
    var more = (live && live.moreRunbooks) || [];
    $('more-runbooks').hidden = more.length === 0;
    $('more-runbooks').textContent = more.length
      ? 'Also run on this incident: ' +
        more
          .map(function (r) {
            return r.id + ' v' + r.version + ' by ' + r.by + ' (steps ' + r.prefix + '…)';
          })
          .join('; ')
      : '';
  }

  function render(view) {
    var inc = view.incident || {};
    var live = view.live || null;
    renderRoles(inc.roles || { assignees: [] });
    renderAckBy(inc, live);
    renderRootCause(inc);
    renderStatusUpdate(inc.latestStatusUpdate || null);
    renderSuggestions(inc, live);
  }

  function clear() {
    shownSuggestions = null;
    ['role-commander', 'role-assignees', 'role-comms', 'role-scribe', 'root-cause', 'root-cause-hypothesis', 'impact', 'more-runbooks'].forEach(function (id) {
      $(id).textContent = '';
    });
    ['incident-ack-by', 'status-update', 'suggestions'].forEach(function (id) {
      $(id).replaceChildren();
    });
    $('ack-by-fact').hidden = true;
    ['note-text', 'status-message', 'status-eta'].forEach(function (id) {
      $(id).value = '';
    });
    $('note-key').checked = false;
  }

  // ---- actions ----

  /** A suggested runbook runs inside the incident's workflow; a 409 says why not now (one is running). */
  function onRun(event) {
    var button = event.target.closest('button[data-runbook-id]');
    if (!button || !c.incidentId()) return;
    var buttons = Array.prototype.slice.call($('suggestions').querySelectorAll('button'));
    c.post('runbooks', { runbookId: button.getAttribute('data-runbook-id') }, buttons, button.textContent);
  }

  function onNote(event) {
    event.preventDefault();
    var text = $('note-text').value.trim();
    if (!text || !c.incidentId()) return;
    var describe = function (note) {
      return 'Note added by ' + note.actor + (note.key ? ' (key note).' : '.');
    };
    c.post('notes', { text: text, key: $('note-key').checked }, [$('note-form').querySelector('button')], 'Note', describe).then(function (accepted) {
      if (!accepted) return;
      $('note-text').value = '';
      $('note-key').checked = false;
    });
  }

  function onStatusUpdate(event) {
    event.preventDefault();
    var message = $('status-message').value.trim();
    if (!message || !c.incidentId()) return;
    var body = { message: message, audience: $('status-audience').value };
    // datetime-local is the browser's local time without a zone: sent as an ISO instant.
    var eta = $('status-eta').value ? new Date($('status-eta').value) : null;
    if (eta && !isNaN(eta.getTime())) body.eta = eta.toISOString();
    c.post('status-updates', body, [$('status-form').querySelector('button')], 'Status update').then(function (accepted) {
      if (!accepted) return;
      $('status-message').value = '';
      $('status-eta').value = '';
    });
  }

  c.addIncidentPart({ render: render, clear: clear });

  document.addEventListener('DOMContentLoaded', function () {
    $('suggestions').addEventListener('click', onRun);
    $('note-form').addEventListener('submit', onNote);
    $('status-form').addEventListener('submit', onStatusUpdate);
  });
})();
