// Rampart web UI enhancements. Loaded with `defer` under a strict CSP.
// Everything here is progressive enhancement: each page works without it.
(function () {
  'use strict';

  const reducedMotion = window.matchMedia &&
    window.matchMedia('(prefers-reduced-motion: reduce)').matches;

  // ---------- Helpers ----------

  // Checkboxes and buttons take no typing, so shortcuts still work on them
  // (bulk-action checkboxes sit inside the triage tables).
  const NON_TEXT_INPUTS = ['checkbox', 'radio', 'button', 'submit', 'reset'];

  function isTextEntry(el) {
    if (!el) return false;
    const tag = el.tagName;
    if (tag === 'INPUT') return NON_TEXT_INPUTS.indexOf(el.type) === -1;
    return tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable;
  }

  // Elements that already do something on Enter; we must not hijack them.
  function isInteractive(el) {
    if (!el || el === document.body) return false;
    return el.matches('a[href], button, input, summary, [role="button"], [role="link"]');
  }

  // One polite live region, created on demand, so screen-reader users hear
  // outcomes (such as "Copied") that are otherwise only visual.
  let liveRegion = null;
  function announce(message) {
    if (!liveRegion) {
      liveRegion = document.createElement('div');
      liveRegion.className = 'visually-hidden';
      liveRegion.setAttribute('role', 'status');
      liveRegion.setAttribute('aria-live', 'polite');
      document.body.appendChild(liveRegion);
    }
    // Clear first so repeating the same message is announced again.
    liveRegion.textContent = '';
    window.setTimeout(function () { liveRegion.textContent = message; }, 50);
  }

  // ---------- Keyboard navigation in tables ----------

  const keynavTables = Array.from(document.querySelectorAll('table.data[data-keynav]'));
  let activeTable = keynavTables[0] || null;

  function rowsOf(table) {
    const rows = [];
    Array.from(table.tBodies).forEach(function (body) {
      Array.from(body.rows).forEach(function (row) {
        // Skip rows hidden by the template or by CSS.
        if (!row.hidden && row.getClientRects().length > 0) rows.push(row);
      });
    });
    return rows;
  }

  function selectRow(table, row) {
    table.querySelectorAll('tbody tr.is-selected').forEach(function (r) {
      r.classList.remove('is-selected');
    });
    row.classList.add('is-selected');
    activeTable = table;

    // Moving focus to the row's first link makes the selection audible to
    // screen readers and lets Enter work natively.
    const link = row.querySelector('a[href]');
    if (link) {
      try {
        link.focus({ preventScroll: true });
      } catch (e) {
        link.focus();
      }
    }
    row.scrollIntoView({ block: 'nearest', behavior: reducedMotion ? 'auto' : 'smooth' });
  }

  function moveSelection(table, delta) {
    const rows = rowsOf(table);
    if (rows.length === 0) return;
    const current = rows.findIndex(function (r) { return r.classList.contains('is-selected'); });
    let next;
    if (current === -1) {
      next = delta > 0 ? 0 : rows.length - 1;
    } else {
      next = Math.min(rows.length - 1, Math.max(0, current + delta));
    }
    selectRow(table, rows[next]);
  }

  function openSelection(table) {
    const row = table.querySelector('tbody tr.is-selected');
    if (!row) return false;
    const link = row.querySelector('a[href]');
    if (!link) return false;
    window.location.assign(link.href);
    return true;
  }

  // The table the user is working in: the one holding focus, else the last
  // one they selected in, else the first on the page.
  function currentTable() {
    const focused = document.activeElement;
    if (focused) {
      const t = focused.closest && focused.closest('table.data[data-keynav]');
      if (t) return t;
    }
    return activeTable;
  }

  // Keep the keyboard selection in step with the mouse.
  keynavTables.forEach(function (table) {
    table.addEventListener('click', function (event) {
      const row = event.target.closest('tbody tr');
      if (!row || !table.contains(row)) return;
      table.querySelectorAll('tbody tr.is-selected').forEach(function (r) {
        r.classList.remove('is-selected');
      });
      row.classList.add('is-selected');
      activeTable = table;
    });
  });

  // ---------- Global shortcuts ----------

  document.addEventListener('keydown', function (event) {
    if (event.defaultPrevented || event.isComposing) return;
    // Shift is allowed: on many layouts "/" itself needs Shift.
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const focused = document.activeElement;
    if (isTextEntry(focused)) return;

    const key = event.key;

    if (key === '/') {
      const search = document.querySelector('[data-search]');
      if (search) {
        event.preventDefault();
        search.focus();
        if (typeof search.select === 'function') search.select();
      }
      return;
    }

    const table = currentTable();
    if (!table) return;

    // Arrows normally scroll the page, so only claim them once the user is
    // working in the table (focus inside it, or a row already selected).
    const inTable = table.contains(focused) ||
      ((!focused || focused === document.body) && table.querySelector('tbody tr.is-selected') !== null);

    if (key === 'j' || (key === 'ArrowDown' && inTable)) {
      event.preventDefault();
      moveSelection(table, 1);
    } else if (key === 'k' || (key === 'ArrowUp' && inTable)) {
      event.preventDefault();
      moveSelection(table, -1);
    } else if (key === 'o' || (key === 'Enter' && !isInteractive(focused))) {
      if (openSelection(table)) event.preventDefault();
    }
  });

  // ---------- Confirmation before destructive submits ----------

  document.addEventListener('submit', function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    // A submit button may carry its own message, more specific than the form's.
    const submitter = event.submitter;
    const message = (submitter && submitter.getAttribute('data-confirm')) ||
      form.getAttribute('data-confirm');
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  // ---------- Drafts of long forms ----------

  // A form marked data-draft keeps what is typed in this browser's storage,
  // so closing the tab or losing the connection does not lose a report.
  // The draft is removed when the form is submitted (a failed submission
  // comes back from the server with everything filled in anyway).
  document.querySelectorAll('form[data-draft]').forEach(function (form) {
    const key = 'rampart-draft:' + form.getAttribute('data-draft');
    const fields = function () {
      return Array.prototype.filter.call(form.elements, function (el) {
        return el.name && el.name !== 'csrf' && el.type !== 'password' &&
          el.type !== 'file' && el.type !== 'hidden' && el.type !== 'checkbox' &&
          (el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.tagName === 'INPUT');
      });
    };
    let saved = null;
    try { saved = JSON.parse(window.localStorage.getItem(key) || 'null'); } catch (e) { saved = null; }
    const empty = fields().every(function (el) { return !el.value || el.tagName === 'SELECT'; });
    if (saved && empty) {
      fields().forEach(function (el) {
        if (typeof saved[el.name] === 'string') el.value = saved[el.name];
      });
      const status = document.createElement('p');
      status.className = 'hint';
      status.setAttribute('role', 'status');
      status.textContent = 'Your unsent draft was restored.';
      form.insertBefore(status, form.firstChild);
    }
    let timer = null;
    form.addEventListener('input', function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        const draft = {};
        fields().forEach(function (el) { draft[el.name] = el.value; });
        try { window.localStorage.setItem(key, JSON.stringify(draft)); } catch (e) { /* storage full or off */ }
      }, 400);
    });
    form.addEventListener('submit', function () {
      window.clearTimeout(timer);
      try { window.localStorage.removeItem(key); } catch (e) { /* ignore */ }
    });
  });

  // Signing out forgets every draft kept in this browser (a shared
  // computer must not offer the next person someone's unsent report).
  document.querySelectorAll('form[action="/logout"]').forEach(function (form) {
    form.addEventListener('submit', function () {
      try {
        const keys = [];
        for (let i = 0; i < window.localStorage.length; i++) {
          const k = window.localStorage.key(i);
          if (k && k.indexOf('rampart-draft:') === 0) keys.push(k);
        }
        keys.forEach(function (k) { window.localStorage.removeItem(k); });
      } catch (e) { /* storage off */ }
    });
  });

  // ---------- Auto-submitting filters ----------

  document.addEventListener('change', function (event) {
    const el = event.target;
    if (!el.matches || !el.matches('select.autosubmit, input.autosubmit')) return;
    const form = el.form;
    if (!form) return;
    // requestSubmit() runs validation and fires "submit" (so data-confirm
    // still applies); submit() does neither, hence only a fallback.
    if (typeof form.requestSubmit === 'function') {
      form.requestSubmit();
    } else {
      form.submit();
    }
  });

  // ---------- Copy to clipboard ----------

  // Copy buttons are useless without script; templates may ship them hidden.
  document.querySelectorAll('button[data-copy][hidden]').forEach(function (btn) {
    btn.hidden = false;
  });

  function selectContents(el) {
    if (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA') {
      el.select();
      return;
    }
    const range = document.createRange();
    range.selectNodeContents(el);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function flashLabel(btn, label) {
    // Keep the original nodes (the label may include an SVG icon) rather than
    // round-tripping through innerHTML.
    if (!btn._rampartOriginal) {
      btn._rampartOriginal = Array.from(btn.childNodes).map(function (n) { return n.cloneNode(true); });
    }
    btn.textContent = label;
    window.clearTimeout(btn._rampartTimer);
    btn._rampartTimer = window.setTimeout(function () {
      const original = btn._rampartOriginal;
      btn._rampartOriginal = null;
      btn.textContent = '';
      original.forEach(function (node) { btn.appendChild(node); });
    }, 2000);
  }

  document.addEventListener('click', function (event) {
    const btn = event.target.closest && event.target.closest('button[data-copy]');
    if (!btn) return;
    event.preventDefault();
    const source = document.getElementById(btn.getAttribute('data-copy'));
    if (!source) return;
    const text = ('value' in source && (source.tagName === 'INPUT' || source.tagName === 'TEXTAREA')
      ? source.value
      : source.textContent).trim();

    const fallback = function () {
      // No clipboard API (e.g. plain HTTP): select the text for a manual copy.
      selectContents(source);
      flashLabel(btn, 'Press Ctrl+C');
      announce('Text selected; press Control C to copy');
    };

    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () {
        flashLabel(btn, 'Copied');
        announce('Copied to clipboard');
      }, fallback);
    } else {
      fallback();
    }
  });
})();
