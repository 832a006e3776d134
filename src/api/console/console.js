// AIRE approval console: a plain script, no framework, no build step, no third-party origin.
// All DOM is built with createElement/textContent: nothing from the API is ever parsed as HTML.
// The incident-command parts (roles, status updates, runbooks to run, notes) are in command.js,
// which uses the helpers this file exposes as window.AireConsole.
'use strict';

(function () {
  var KEY_STORAGE = 'aire.console.apiKey';
  var REFRESH_MS = 2000;
  var LIST_LIMIT = 50;

  var state = {
    view: null, // 'signin' | 'list' | 'incident'
    incidentId: null,
    timer: null,
    loading: false,
    refreshProblem: false, // the problem shown came from a refresh, so the next good refresh clears it
    generation: 0, // bumps on every navigation, so a late answer for an old view is dropped
  };
  /** Other parts of the incident view (command.js): each renders from GET /api/incidents/:id and clears. */
  var incidentParts = [];

  function $(id) {
    return document.getElementById(id);
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        var value = attrs[name];
        if (value === undefined || value === null) return;
        if (name === 'text') node.textContent = String(value);
        else if (name === 'className') node.className = value;
        else node.setAttribute(name, String(value));
      });
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    });
    return node;
  }

  function getKey() {
    try {
      return window.sessionStorage.getItem(KEY_STORAGE);
    } catch (e) {
      return null;
    }
  }

  function setKey(key) {
    if (key) window.sessionStorage.setItem(KEY_STORAGE, key);
    else window.sessionStorage.removeItem(KEY_STORAGE);
  }

  function formatTime(iso) {
    if (!iso) return '—';
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    return d.toLocaleString();
  }

  function timeEl(iso) {
    return el('time', { datetime: iso || undefined, text: formatTime(iso) });
  }

  function pill(text) {
    return el('span', { className: 'pill pill-' + String(text).replace(/[^a-z_]/g, ''), text: text });
  }

  // ---- API ----

  /** An answer the API refused, carrying its problem+json (or a stand-in for a network failure). */
  function ApiProblem(status, problem) {
    this.status = status;
    this.problem = problem;
  }

  function api(method, path, body) {
    var key = getKey();
    var headers = { Accept: 'application/json, application/problem+json' };
    if (key) headers.Authorization = 'Bearer ' + key;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return fetch(path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
      redirect: 'error',
    }).then(
      function (res) {
        return res.text().then(function (text) {
          var data = null;
          if (text) {
            try {
              data = JSON.parse(text);
            } catch (e) {
              data = null;
            }
          }
          if (res.ok) return data || {};
          var problem = data && typeof data === 'object' ? data : {};
          throw new ApiProblem(res.status, {
            title: typeof problem.title === 'string' ? problem.title : res.statusText || 'Request failed',
            status: res.status,
            detail: typeof problem.detail === 'string' ? problem.detail : text && !data ? text.slice(0, 500) : undefined,
            errors: Array.isArray(problem.errors) ? problem.errors : [],
          });
        });
      },
      function (err) {
        throw new ApiProblem(0, {
          title: 'The API cannot be reached',
          status: 0,
          detail: String((err && err.message) || err),
          errors: [],
        });
      },
    );
  }

  // ---- messages ----

  function showProblem(err, context) {
    var box = $('problem');
    box.replaceChildren();
    var p = err instanceof ApiProblem ? err.problem : { title: 'Unexpected error', detail: String((err && err.message) || err), errors: [] };
    var heading = (context ? context + ': ' : '') + p.title + (p.status ? ' (' + p.status + ')' : '');
    box.appendChild(el('strong', { className: 'problem-title', text: heading }));
    if (p.detail) box.appendChild(el('p', { className: 'problem-detail', text: p.detail }));
    if (p.errors && p.errors.length) {
      box.appendChild(
        el(
          'ul',
          null,
          p.errors.map(function (e) {
            return el('li', { text: (e && e.path ? e.path + ': ' : '') + ((e && e.message) || '') });
          }),
        ),
      );
    }
    var close = el('button', { type: 'button', className: 'link', text: 'Dismiss' });
    close.addEventListener('click', clearProblem);
    box.appendChild(close);
    box.hidden = false;
    state.refreshProblem = false;
    $('notice').textContent = '';
  }

  function clearProblem() {
    state.refreshProblem = false;
    var box = $('problem');
    box.hidden = true;
    box.replaceChildren();
  }

  function notice(text) {
    $('notice').textContent = text;
  }

  /** A 401 means the key no longer works: forget it and ask again. */
  function handleFailure(err, context) {
    if (err instanceof ApiProblem && err.status === 401) {
      setKey(null);
      route();
    }
    showProblem(err, context);
  }

  // ---- views ----

  function show(view) {
    state.view = view;
    $('signin-view').hidden = view !== 'signin';
    $('list-view').hidden = view !== 'list';
    $('incident-view').hidden = view !== 'incident';
    $('session').hidden = view === 'signin';
  }

  function stopTimer() {
    if (state.timer !== null) {
      window.clearInterval(state.timer);
      state.timer = null;
    }
  }

  function route() {
    stopTimer();
    state.generation += 1;
    if (!getKey()) {
      state.incidentId = null;
      show('signin');
      document.title = 'Sign in · AIRE approval console';
      $('api-key').focus();
      return;
    }
    var match = /^#\/incidents\/([0-9a-fA-F-]{36})$/.exec(window.location.hash);
    if (match) {
      openIncident(match[1].toLowerCase());
    } else {
      state.incidentId = null;
      show('list');
      document.title = 'Incidents · AIRE approval console';
      loadList();
    }
  }

  // ---- sign in / out ----

  function onSignIn(event) {
    event.preventDefault();
    var input = $('api-key');
    var key = input.value.trim();
    if (!key) return;
    setKey(key);
    // Check the key before keeping it: an unknown key is answered 401 by the list call.
    api('GET', '/api/incidents?limit=1').then(
      function () {
        input.value = '';
        clearProblem();
        route();
        notice('Signed in.');
      },
      function (err) {
        setKey(null);
        showProblem(err, 'Sign in failed');
      },
    );
  }

  function onSignOut() {
    setKey(null);
    stopTimer();
    clearProblem();
    $('incident-rows').replaceChildren();
    clearIncident();
    notice('Signed out.');
    if (window.location.hash) window.location.hash = '';
    route();
  }

  // ---- incident list ----

  function loadList() {
    var generation = state.generation;
    // Those awaiting approval are fetched on their own, so none is missed behind the newest page.
    Promise.all([api('GET', '/api/incidents?status=awaiting_approval&limit=200'), api('GET', '/api/incidents?limit=' + LIST_LIMIT)]).then(
      function (answers) {
        if (generation !== state.generation) return;
        var seen = {};
        var items = [];
        answers.forEach(function (page) {
          (page.items || []).forEach(function (item) {
            if (seen[item.id]) return;
            seen[item.id] = true;
            items.push(item);
          });
        });
        items.sort(function (a, b) {
          var wa = a.status === 'awaiting_approval' ? 0 : 1;
          var wb = b.status === 'awaiting_approval' ? 0 : 1;
          if (wa !== wb) return wa - wb;
          return a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0;
        });
        renderList(items);
      },
      function (err) {
        if (generation === state.generation) handleFailure(err, 'Loading incidents failed');
      },
    );
  }

  function renderList(items) {
    var rows = items.map(function (item) {
      var link = el('a', { href: '#/incidents/' + item.id, text: item.title });
      return el('tr', { className: item.status === 'awaiting_approval' ? 'waiting' : null, 'data-incident-id': item.id }, [
        el('td', null, [pill(item.severity)]),
        el('td', null, [pill(item.status)]),
        el('td', null, [link]),
        el('td', { text: (item.roles && item.roles.commander) || '—' }),
        el('td', null, [timeEl(item.createdAt)]),
      ]);
    });
    $('incident-rows').replaceChildren.apply($('incident-rows'), rows);
    $('list-empty').hidden = items.length > 0;
  }

  // ---- one incident ----

  function clearIncident() {
    ['incident-severity', 'incident-status', 'incident-runbook', 'incident-created', 'incident-acknowledged', 'incident-summary', 'pending-gate'].forEach(
      function (id) {
        $(id).textContent = '';
      },
    );
    ['step-rows', 'approval-list', 'timeline', 'pending-reasons'].forEach(function (id) {
      $(id).replaceChildren();
    });
    $('pending').hidden = true;
    $('incident-title').textContent = 'Incident';
    incidentParts.forEach(function (part) {
      part.clear();
    });
  }

  function openIncident(id) {
    if (state.incidentId !== id) {
      clearIncident();
      $('reason').value = '';
    }
    state.incidentId = id;
    show('incident');
    loadIncident();
    // Refresh while the incident is open; route() stops it when the view changes.
    state.timer = window.setInterval(loadIncident, REFRESH_MS);
  }

  function loadIncident() {
    if (state.loading || state.view !== 'incident' || !state.incidentId) return;
    var generation = state.generation;
    var id = state.incidentId;
    state.loading = true;
    api('GET', '/api/incidents/' + id).then(
      function (view) {
        state.loading = false;
        if (generation !== state.generation) return;
        if (state.refreshProblem) {
          state.refreshProblem = false;
          clearProblem();
        }
        renderIncident(view);
      },
      function (err) {
        state.loading = false;
        if (generation !== state.generation) return;
        // A refused read (404, 403) will not change by asking again; an outage (0, 5xx) may pass.
        if (err instanceof ApiProblem && err.status >= 400 && err.status < 500) stopTimer();
        handleFailure(err, 'Loading the incident failed');
        state.refreshProblem = true;
      },
    );
  }

  function renderIncident(view) {
    var inc = view.incident || {};
    var live = view.live || null;
    document.title = (inc.title || 'Incident') + ' · AIRE approval console';
    $('incident-title').textContent = inc.title || 'Incident';
    setPill($('incident-severity'), inc.severity);
    setPill($('incident-status'), inc.status);
    $('incident-runbook').textContent = inc.runbookId ? inc.runbookId + ' v' + inc.runbookVersion : 'none selected';
    $('incident-created').replaceChildren(timeEl(inc.createdAt));
    $('incident-acknowledged').replaceChildren(inc.acknowledgedAt ? timeEl(inc.acknowledgedAt) : document.createTextNode('no'));
    $('incident-summary').textContent = inc.summary || '';
    $('live-missing').hidden = live !== null;

    renderPending(live, view.steps || []);
    renderSteps(view.steps || [], live);
    renderApprovals(view.approvals || []);
    renderTimeline(view.actionLog || []);
    incidentParts.forEach(function (part) {
      part.render(view);
    });
  }

  function setPill(node, value) {
    node.textContent = value || '';
    node.className = 'pill pill-' + String(value || '').replace(/[^a-z_]/g, '');
  }

  function renderPending(live, steps) {
    var pending = live && live.pendingApproval;
    $('pending').hidden = !pending;
    if (!pending) {
      $('pending-gate').textContent = '';
      $('pending-reasons').replaceChildren();
      return;
    }
    var gate;
    if (pending.stepId) {
      var step = steps.filter(function (s) {
        return s.stepId === pending.stepId;
      })[0];
      gate = 'Step "' + pending.stepId + '"' + (step && step.name ? ' (' + step.name + ')' : '') + ' waits for approval';
    } else {
      gate = 'The whole runbook waits for approval before any step runs';
    }
    $('pending-gate').replaceChildren(document.createTextNode(gate + ', since '), timeEl(pending.since), document.createTextNode('.'));
    $('pending-reasons').replaceChildren.apply(
      $('pending-reasons'),
      (pending.reasons || []).map(function (r) {
        return el('li', { text: r });
      }),
    );
  }

  function renderSteps(steps, live) {
    var liveById = {};
    ((live && live.steps) || []).forEach(function (s) {
      liveById[s.id] = s;
    });
    var rows = steps.map(function (s, i) {
      var error = s.error || (liveById[s.stepId] && liveById[s.stepId].error) || '';
      var detail = error ? el('span', { className: 'error', text: error }) : s.attempts > 1 ? document.createTextNode(s.attempts + ' attempts') : null;
      return el('tr', { 'data-step-id': s.stepId }, [
        el('td', { text: String(i + 1) }),
        el('td', null, [el('span', { text: s.name || s.stepId }), el('code', { className: 'id', text: s.stepId })]),
        el('td', { text: s.action }),
        el('td', null, [pill(s.status)]),
        el('td', null, [detail]),
      ]);
    });
    $('step-rows').replaceChildren.apply($('step-rows'), rows);
    $('steps-empty').hidden = steps.length > 0;
  }

  function renderApprovals(approvals) {
    var items = approvals.map(function (a) {
      var text = a.decision + ' by ' + a.approver + (a.stepId ? ' for step ' + a.stepId : ' for the runbook') + (a.reason ? ': ' + a.reason : '');
      return el('li', null, [timeEl(a.at), document.createTextNode(' ' + text)]);
    });
    if (!items.length) items = [el('li', { className: 'hint', text: 'No decisions yet.' })];
    $('approval-list').replaceChildren.apply($('approval-list'), items);
  }

  function summarise(detail) {
    if (!detail || typeof detail !== 'object') return '';
    var keys = Object.keys(detail);
    if (!keys.length) return '';
    var text = keys
      .map(function (k) {
        var v = detail[k];
        return k + '=' + (typeof v === 'string' ? v : JSON.stringify(v));
      })
      .join(', ');
    return text.length > 300 ? text.slice(0, 297) + '…' : text;
  }

  function renderTimeline(log) {
    var items = log.map(function (e) {
      // A note is what a person wrote: shown whole, as its own line, not as key=value detail.
      var note = e.kind === 'note.added' && e.detail && typeof e.detail.text === 'string';
      return el('li', { className: note ? 'note' : null }, [
        timeEl(e.at),
        el('span', { className: 'kind', text: e.kind }),
        el('span', { className: 'actor', text: e.actor }),
        e.stepId ? el('code', { className: 'id', text: e.stepId }) : null,
        note && e.detail.key ? el('span', { className: 'pill pill-key', text: 'key note' }) : null,
        note ? el('p', { className: 'note-text', text: e.detail.text }) : el('span', { className: 'detail', text: summarise(e.detail) }),
      ]);
    });
    $('timeline').replaceChildren.apply($('timeline'), items);
  }

  /**
   * POSTs `body` to the open incident's `path` (approve, runbooks, notes, …) with `buttons` disabled
   * meanwhile, then shows the workflow's answer (what it did: approved, runbook-queued, …) as a notice
   * or the API's problem, and refreshes the incident. Resolves to whether it was accepted.
   */
  function post(path, body, buttons, label, describe) {
    var id = state.incidentId;
    buttons.forEach(function (b) {
      b.disabled = true;
    });
    clearProblem();
    notice('Sending ' + label + '…');
    return api('POST', '/api/incidents/' + id + '/' + path, body)
      .then(
        function (answer) {
          var what = answer.outcome ? ' (' + answer.outcome.replace(/-/g, ' ') + ')' : '';
          notice(describe ? describe(answer) : 'Accepted: ' + (answer.accepted || label) + ' by ' + (answer.actor || 'you') + what + '.');
          loadIncident();
          return true;
        },
        function (err) {
          handleFailure(err, label + ' refused');
          return false;
        },
      )
      .then(function (accepted) {
        buttons.forEach(function (b) {
          b.disabled = false;
        });
        return accepted;
      });
  }

  function onAction(event) {
    var button = event.target.closest('button[data-action]');
    if (!button || !state.incidentId) return;
    var action = button.getAttribute('data-action');
    var reason = $('reason').value.trim();
    var buttons = Array.prototype.slice.call(document.querySelectorAll('#action-form button'));
    // Decisions are answered by the workflow with what they did (approved, approval-recorded, …).
    post(action, reason ? { reason: reason } : {}, buttons, button.textContent).then(function (accepted) {
      if (accepted) $('reason').value = '';
    });
  }

  /** What command.js builds on. */
  window.AireConsole = Object.freeze({
    $: $,
    el: el,
    timeEl: timeEl,
    post: post,
    /** The open incident's id, or null. */
    incidentId: function () {
      return state.incidentId;
    },
    /** `part.render(view)` after each load of the open incident, `part.clear()` when another opens. */
    addIncidentPart: function (part) {
      incidentParts.push(part);
    },
  });

  document.addEventListener('DOMContentLoaded', function () {
    $('signin-form').addEventListener('submit', onSignIn);
    $('sign-out').addEventListener('click', onSignOut);
    $('list-refresh').addEventListener('click', function () {
      clearProblem();
      loadList();
    });
    $('action-form').addEventListener('click', onAction);
    $('action-form').addEventListener('submit', function (e) {
      e.preventDefault();
    });
    window.addEventListener('hashchange', function () {
      clearProblem();
      notice('');
      route();
    });
    route();
  });
})();
