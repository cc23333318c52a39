'use strict';

// The dashboard: reads the API with the session cookie set by POST /dashboard/session, and reloads what it
// shows when /dashboard/events says something changed. Every value from the API is put on the page as text.
(() => {
  const SENTIMENTS = ['positive', 'negative', 'neutral', 'mixed'];
  // The configured topics (training/taxonomy.json), from the session; these are the defaults until it answers.
  let TOPICS = ['bug', 'feature_request', 'billing', 'performance', 'ux', 'general'];
  const PAGE = 25;
  const $ = (id) => document.getElementById(id);

  const state = { range: 'hour', cursor: null, latestSeen: 0, events: null, version: null, openDetail: null, expanded: new Set(), scopes: [], theme: null };

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === 'class') node.className = value;
      else if (name === 'text') node.textContent = value;
      else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  function svg(tag, attrs) {
    const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    return node;
  }

  class Unauthorized extends Error {}

  async function api(path, options) {
    const response = await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' }, ...options });
    if (response.status === 401) throw new Unauthorized();
    if (!response.ok) throw new Error(`${path}: ${response.status}`);
    return response.status === 204 ? null : response.json();
  }

  const number = new Intl.NumberFormat();
  const percent = (part, whole) => (whole ? `${Math.round((100 * part) / whole)} %` : '–');
  const when = (iso) => new Date(iso).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' });
  const label = (name) => name.replace('_', ' ');

  function chip(text, cls) {
    return el('span', { class: `chip ${cls || ''}`, text });
  }

  // ---- sign in / out -------------------------------------------------------------------------------------

  function showLogin() {
    stopEvents();
    $('app').hidden = true;
    $('top-actions').hidden = true;
    $('login').hidden = false;
    $('key').focus();
  }

  // What the key may do, and the topics the filter and the label form offer.
  function useSession(session) {
    state.scopes = session.scopes || [];
    if (session.topics && session.topics.length) TOPICS = session.topics;
    const options = (select, first) => select.replaceChildren(...first, ...TOPICS.map((t) => el('option', { text: t })));
    const filter = document.querySelector('select[name="topic"]');
    options(filter, [el('option', { value: '', text: 'any' })]);
    options($('label-topic'), []);
  }

  async function start() {
    $('login').hidden = true;
    $('app').hidden = false;
    $('top-actions').hidden = false;
    await refreshAll();
    startEvents();
  }

  $('login-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    $('login-error').hidden = true;
    try {
      await api('/dashboard/session', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ key: $('key').value.trim() }),
      });
      $('key').value = '';
      useSession(await api('/dashboard/session'));
      await start();
    } catch (error) {
      $('login-error').hidden = false;
    }
  });

  $('sign-out').addEventListener('click', async () => {
    await fetch('/dashboard/session', { method: 'DELETE', credentials: 'same-origin' });
    showLogin();
  });

  // ---- live updates --------------------------------------------------------------------------------------

  function setLive(on) {
    $('live').dataset.state = on ? 'on' : 'off';
    $('live').textContent = on ? 'live' : 'offline';
  }

  let pending = null;
  function startEvents() {
    stopEvents();
    const source = new EventSource('/dashboard/events');
    state.events = source;
    source.addEventListener('open', () => setLive(true));
    source.addEventListener('changed', (event) => {
      setLive(true);
      // A reconnect (a proxy closes a quiet stream) repeats the version it last sent: nothing to reload then.
      const version = JSON.parse(event.data).version;
      if (version === state.version) return;
      state.version = version;
      // Several notices in a burst cause one reload.
      clearTimeout(pending);
      pending = setTimeout(() => refreshAll().catch(handleError), 150);
    });
    source.addEventListener('error', async () => {
      setLive(false);
      const session = await api('/dashboard/session').catch(() => null);
      if (session && !session.signed_in) showLogin();
    });
  }

  function stopEvents() {
    if (state.events) state.events.close();
    state.events = null;
    setLive(false);
  }

  function handleError(error) {
    if (error instanceof Unauthorized) showLogin();
    else console.warn(error);
  }

  // ---- data ----------------------------------------------------------------------------------------------

  async function refreshAll() {
    await Promise.all([refreshStats(), refreshAlerts(), refreshThemes(), refreshFeed()]);
  }

  async function refreshStats() {
    const stats = await api(`/stats?bucket=${state.range}`);
    state.stats = stats;
    $('kpi-total').textContent = number.format(stats.total);
    $('kpi-negative').textContent = percent(stats.sentiment.negative + stats.sentiment.mixed, stats.total);
    $('kpi-ai').textContent = stats.total ? `${Math.round(stats.method_share.ai * 100)} %` : '–';
    showLlmMonth(stats.llm && stats.llm.month);
    drawTimeline(stats);
    drawTopics(stats);
  }

  // The month's LLM tokens against LLM_TOKEN_BUDGET_MONTHLY (and their cost when prices are set), under the LLM's share.
  function showLlmMonth(month) {
    const note = $('kpi-llm-month');
    if (!month) {
      note.textContent = '';
      return;
    }
    const budget = month.budget_tokens;
    const cost = month.cost === null ? '' : `, cost ${month.cost.toLocaleString([], { maximumFractionDigits: 2 })}`;
    note.textContent = budget === null
      ? `This month: ${number.format(month.tokens)} tokens${cost}`
      : `This month: ${number.format(month.tokens)} of ${number.format(budget)} tokens (${percent(month.tokens, budget)})${cost}`;
    note.dataset.state = month.exhausted ? 'spent' : (budget !== null && month.tokens >= 0.8 * budget ? 'near' : 'ok');
    note.title = month.exhausted ? 'The budget is spent: the local classifier answers until the month turns.' : '';
  }

  // One list item per open alert group: its size, severity, topic, when it started and was last joined, what the
  // first message said, where it was delivered, its latest messages (folded) and a button to resolve it.
  async function refreshAlerts() {
    const groups = await api('/dashboard/alerts');
    $('kpi-alerts').textContent = number.format(groups.total);
    $('alerts-count').textContent = groups.total ? String(groups.total) : '';
    const list = $('alerts');
    list.replaceChildren();
    if (groups.items.length === 0) {
      list.append(el('li', { class: 'muted', text: 'No open alert groups.' }));
      return;
    }
    list.append(...groups.items.map(groupItem));
  }

  function groupItem(group) {
    const open = state.expanded.has(group.id);
    const messages = el('ul', { class: 'group-messages' }, ...group.messages.map((m) => el('li', {},
      el('button', { type: 'button', onclick: () => openDetail(m.feedback_id) },
        el('span', { text: m.excerpt }),
        el('small', { text: `#${m.feedback_id} · ${m.sentiment} · ${Math.round(m.confidence * 100)} % · ${when(m.created_at)}` })))));
    messages.hidden = !open;
    const shown = group.messages.length < group.count ? `latest ${group.messages.length} of ${group.count}` : String(group.count);
    const toggle = el('button', { type: 'button', class: 'link', 'aria-expanded': String(open), text: `Messages (${shown})` });
    toggle.hidden = group.messages.length === 0;
    toggle.addEventListener('click', () => {
      const expand = messages.hidden;
      messages.hidden = !expand;
      toggle.setAttribute('aria-expanded', String(expand));
      if (expand) state.expanded.add(group.id);
      else state.expanded.delete(group.id);
    });
    const problem = el('p', { class: 'error', role: 'alert' });
    problem.hidden = true;
    const resolve = el('button', { type: 'button', class: 'small', text: 'Resolve' });
    resolve.addEventListener('click', () => resolveGroup(group.id, resolve, problem));
    const size = group.kind === 'spike' ? 'topic spike'
      : group.kind === 'theme' ? 'emerging theme'
      : group.kind === 'llm_budget' ? 'LLM budget'
      : `${group.count} ${group.count === 1 ? 'message' : 'messages'}`;
    return el('li', { class: `group sev-${group.severity}`, 'data-group-id': String(group.id) },
      el('div', { class: 'chips' },
        chip(group.severity, `sev sev-${group.severity}`),
        chip(label(group.topic)),
        el('strong', { class: 'group-size', text: size })),
      el('p', { class: 'group-summary', text: group.summary }),
      el('small', { class: 'muted', text: `first ${when(group.first_at)} · last ${when(group.last_at)}` }),
      el('div', { class: 'chips deliveries' }, ...deliveryChips(group.deliveries)),
      el('div', { class: 'group-actions' }, toggle, resolve),
      problem,
      messages);
  }

  // One chip per channel, naming each message to it (the first, the "+N similar" summary due at the end of the
  // group's window, a resolve) and whether it went out; pending ones show their tries and last error on hover.
  function deliveryChips(deliveries) {
    if (deliveries.length === 0) return [el('small', { class: 'muted', text: 'no delivery queued' })];
    const channels = new Map();
    for (const d of deliveries) channels.set(d.channel, [...(channels.get(d.channel) || []), d]);
    return [...channels].map(([channel, list]) => {
      const parts = list.map((d) => {
        const kind = d.kind === 'initial' ? 'first' : d.kind;
        if (d.state === 'delivered') return `${kind} sent`;
        if (d.state === 'failed') return `${kind} failed (${d.attempts} ${d.attempts === 1 ? 'try' : 'tries'})`;
        return d.attempts ? `${kind} pending (${d.attempts} ${d.attempts === 1 ? 'try' : 'tries'})` : `${kind} pending`;
      });
      const state = list.some((d) => d.state === 'failed') ? 'failed' : list.some((d) => d.state === 'pending') ? 'pending' : 'delivered';
      const node = chip(`${channel}: ${parts.join(', ')}`, state);
      node.title = list.filter((d) => d.last_error).map((d) => `${d.kind}: ${d.last_error}`).join('\n');
      return node;
    });
  }

  async function resolveGroup(id, button, problem) {
    button.disabled = true;
    problem.hidden = true;
    const response = await fetch(`/alerts/${id}/resolve`, { method: 'POST', credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (response.status === 401) {
      showLogin();
      return;
    }
    if (!response.ok) {
      button.disabled = false;
      problem.textContent = response.status === 403 ? 'Resolving needs a key with the admin scope.' : `Could not resolve this group (${response.status}).`;
      problem.hidden = false;
      return;
    }
    state.expanded.delete(id);
    await refreshAll().catch(handleError);
  }

  function filterQuery() {
    const form = new FormData($('filters'));
    const query = new URLSearchParams();
    for (const [name, value] of form.entries()) {
      if (String(value).trim() !== '') query.set(name, String(value).trim());
    }
    query.set('limit', String(PAGE));
    return query;
  }

  // The feed lists the latest feedback as filtered, or, once a theme is picked in the Themes panel, that theme's
  // messages in the panel's window (the filters then do not apply).
  function feedPath(cursor) {
    if (state.theme) {
      const query = new URLSearchParams({ ...themeWindow(), limit: String(PAGE) });
      if (cursor) query.set('cursor', cursor);
      return `/dashboard/themes/${encodeURIComponent(state.theme.id)}/feedback?${query}`;
    }
    const query = filterQuery();
    if (cursor) query.set('cursor', cursor);
    return `/feedback?${query}`;
  }

  async function refreshFeed() {
    let page;
    try {
      page = await api(feedPath(null));
    } catch (error) {
      // A new clustering can retire the theme picked (its oldest message left it): back to all feedback.
      if (!state.theme || error instanceof Unauthorized) throw error;
      showTheme(null);
      return;
    }
    const body = $('feed');
    const previous = state.latestSeen;
    body.replaceChildren(...page.items.map((item) => feedRow(item, previous > 0 && item.id > previous)));
    // New rows are marked for a moment and then unmarked in one step: under steady traffic the feed reloads every
    // second, and a fade (a CSS animation) kept the browser repainting the table on every frame, most of a tab's CPU.
    const fresh = body.querySelectorAll('tr.fresh');
    if (fresh.length > 0) setTimeout(() => fresh.forEach((row) => row.classList.remove('fresh')), 2500);
    if (page.items.length > 0) state.latestSeen = Math.max(state.latestSeen, page.items[0].id);
    state.cursor = page.next_cursor;
    $('more').hidden = !state.cursor;
    $('feed-empty').hidden = page.items.length > 0;
  }

  $('more').addEventListener('click', async () => {
    if (!state.cursor) return;
    const page = await api(feedPath(state.cursor)).catch(handleError);
    if (!page) return;
    $('feed').append(...page.items.map((item) => feedRow(item, false)));
    state.cursor = page.next_cursor;
    $('more').hidden = !state.cursor;
  });

  function feedRow(item, fresh) {
    const row = el('tr', { tabindex: '0', 'data-id': String(item.id), class: fresh ? 'fresh' : '' },
      el('td', { class: 'when', text: when(item.created_at) }),
      el('td', { class: 'msg', text: item.text }),
      el('td', {}, chip(item.sentiment, `s-${item.sentiment}`)),
      el('td', {}, chip(label(item.topic))),
      el('td', { text: `${item.confidence_score} (${Math.round(item.confidence * 100)} %)` }),
      el('td', { text: item.status === 'provisional' ? `${item.processing_method} …` : item.processing_method }),
      el('td', {}, item.alert_triggered ? chip('alert', 'alert') : el('span', { class: 'muted', text: '–' })));
    row.addEventListener('click', () => openDetail(item.id));
    row.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') openDetail(item.id);
    });
    return row;
  }

  let typing = null;
  $('filters').addEventListener('input', (event) => {
    clearTimeout(typing);
    typing = setTimeout(() => refreshFeed().catch(handleError), event.target.name === 'q' ? 300 : 0);
  });
  $('filters').addEventListener('reset', () => setTimeout(() => refreshFeed().catch(handleError), 0));
  $('filters').addEventListener('submit', (event) => event.preventDefault());
  $('range').addEventListener('change', () => {
    state.range = $('range').value;
    refreshStats().catch(handleError);
    refreshThemes().catch(handleError);
    if (state.theme) refreshFeed().catch(handleError);
  });

  // ---- themes --------------------------------------------------------------------------------------------

  // The themes' window follows the range: the last 48 hours by hour, or the last 30 days by day.
  function themeWindow() {
    const to = new Date();
    const from = new Date(to.getTime() - (state.range === 'hour' ? 48 * 3600e3 : 30 * 86400e3));
    return { from: from.toISOString(), to: to.toISOString() };
  }

  // The largest themes of the window: each a button with its label, size, growth, a sparkline of its messages per
  // hour or day and a bar of their sentiments; a click lists its messages in the feed below.
  async function refreshThemes() {
    const query = new URLSearchParams({ ...themeWindow(), bucket: state.range, limit: '12' });
    let list;
    try {
      list = await api(`/themes?${query}`);
    } catch (error) {
      if (error instanceof Unauthorized) throw error;
      $('themes-note').textContent = '';
      $('themes').replaceChildren(el('li', { class: 'muted', text: 'Themes are not available on this server (THEMES_ENABLED).' }));
      return;
    }
    $('themes-note').textContent = list.messages
      ? `${percent(Math.round(list.outlier_share * list.messages), list.messages)} of ${number.format(list.messages)} messages in no theme`
      : '';
    const themes = list.themes.length ? list.themes.map(themeItem)
      : [el('li', { class: 'muted', text: list.computed_at ? 'No themes in this range yet.' : 'The themes are being found; they appear here shortly.' })];
    $('themes').replaceChildren(...themes);
  }

  function themeItem(theme) {
    const growth = theme.growth === null ? 'new' : `${theme.growth >= 0 ? '+' : '−'}${Math.round(Math.abs(theme.growth) * 100)} %`;
    const button = el('button', {
      type: 'button', class: 'theme', 'data-theme-id': theme.id,
      'aria-pressed': String(state.theme !== null && state.theme.id === theme.id),
      title: `Key phrases: ${theme.keywords.join(', ')}`,
      onclick: () => showTheme({ id: theme.id, label: theme.title || theme.label }),
    },
    // The LLM's title when THEME_TITLES=llm gave one, else the key-phrase label.
    el('span', { class: 'theme-label', text: theme.title || theme.label || theme.keywords.join(', ') }),
    el('span', { class: 'theme-facts' },
      el('span', { class: 'theme-size', text: `${number.format(theme.size)} ${theme.size === 1 ? 'message' : 'messages'}` }),
      el('span', { class: 'theme-growth', text: growth, title: 'Against the range before, of equal length' })),
    sparkline(theme.trend),
    sentimentBar(theme));
    return el('li', {}, button);
  }

  function sparkline(trend) {
    const counts = trend ? trend.counts : [];
    const chart = svg('svg', { class: 'spark', viewBox: '0 0 100 28', preserveAspectRatio: 'none', role: 'img' });
    const title = svg('title');
    title.textContent = trend ? `Messages per ${trend.bucket} since ${when(trend.start)}: ${counts.join(' ')}` : 'No trend for this range';
    chart.append(title);
    if (counts.length > 0) {
      const max = Math.max(1, ...counts);
      const x = (i) => (counts.length === 1 ? 50 : (100 * i) / (counts.length - 1));
      const y = (c) => 26 - (24 * c) / max;
      const points = counts.map((c, i) => `${x(i).toFixed(2)},${y(c).toFixed(2)}`);
      chart.append(svg('polygon', { class: 'spark-area', points: `0,28 ${points.join(' ')} 100,28` }));
      chart.append(svg('polyline', { points: points.join(' ') }));
    }
    return chart;
  }

  function sentimentBar(theme) {
    const bar = el('span', { class: 'topic-bar theme-sentiment', title: SENTIMENTS.map((s) => `${s} ${theme.sentiment[s] || 0}`).join(', ') });
    for (const sentiment of SENTIMENTS) {
      const count = theme.sentiment[sentiment] || 0;
      if (!count) continue;
      const segment = el('span', { class: `fill-${sentiment}` });
      segment.style.width = `${(100 * count) / Math.max(1, theme.size)}%`;
      bar.append(segment);
    }
    return bar;
  }

  // Picks a theme (or none) for the feed, and says so above it.
  function showTheme(theme) {
    state.theme = theme;
    $('theme-filter').hidden = !theme;
    $('filters').hidden = Boolean(theme);
    $('feed-title').textContent = theme ? 'Theme messages' : 'Latest feedback';
    $('theme-filter-label').textContent = theme ? theme.label : '';
    for (const button of document.querySelectorAll('.theme')) {
      button.setAttribute('aria-pressed', String(theme !== null && button.dataset.themeId === theme.id));
    }
    state.latestSeen = 0;
    refreshFeed().catch(handleError);
    if (theme) $('feed-card').scrollIntoView({ behavior: 'smooth', block: 'start' });
  }

  $('theme-clear').addEventListener('click', () => showTheme(null));

  // ---- charts --------------------------------------------------------------------------------------------

  function drawTimeline(stats) {
    // Drawn at the size it is shown, so text is never stretched.
    const width = Math.max(280, $('timeline').clientWidth || 800);
    const height = width < 500 ? 180 : 220;
    const pad = { left: 34, right: 8, top: 10, bottom: 22 };
    const series = stats.series;
    const max = Math.max(1, ...series.map((b) => b.total));
    const step = (width - pad.left - pad.right) / Math.max(1, series.length);
    const scale = (height - pad.top - pad.bottom) / max;
    const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height });

    for (const value of new Set([0, Math.round(max / 2), max])) {
      const y = height - pad.bottom - value * scale;
      chart.append(svg('line', { class: 'gridline', x1: pad.left, x2: width - pad.right, y1: y, y2: y }));
      const tick = svg('text', { class: 'axis', x: pad.left - 6, y: y + 4, 'text-anchor': 'end' });
      tick.textContent = number.format(value);
      chart.append(tick);
    }

    const every = Math.ceil(series.length / Math.max(2, Math.floor(width / 90)));
    series.forEach((bucket, index) => {
      let y = height - pad.bottom;
      const x = pad.left + index * step + step * 0.12;
      const group = svg('g');
      const title = svg('title');
      title.textContent = `${when(bucket.start)}: ${bucket.total} messages (${SENTIMENTS.map((s) => `${s} ${bucket.sentiment[s]}`).join(', ')})`;
      group.append(title);
      for (const sentiment of SENTIMENTS) {
        const h = bucket.sentiment[sentiment] * scale;
        if (h <= 0) continue;
        y -= h;
        group.append(svg('rect', { class: `fill-${sentiment}`, x, y, width: Math.max(1, step * 0.76), height: h }));
      }
      chart.append(group);
      if (index % every === 0) {
        const tick = svg('text', { class: 'axis', x: pad.left + index * step + step / 2, y: height - 6, 'text-anchor': 'middle' });
        const date = new Date(bucket.start);
        tick.textContent = stats.bucket === 'hour'
          ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
          : date.toLocaleDateString([], { month: 'short', day: 'numeric' });
        chart.append(tick);
      }
    });
    $('timeline').replaceChildren(chart);
  }

  function drawTopics(stats) {
    const max = Math.max(1, ...TOPICS.map((t) => stats.topic[t]));
    const rows = TOPICS.map((topic) => {
      const bar = el('div', { class: 'topic-bar', title: SENTIMENTS.map((s) => `${s} ${stats.topic_sentiment[topic][s]}`).join(', ') });
      for (const sentiment of SENTIMENTS) {
        const count = stats.topic_sentiment[topic][sentiment];
        if (!count) continue;
        const segment = el('span', { class: `fill-${sentiment}` });
        segment.style.width = `${(100 * count) / max}%`;
        bar.append(segment);
      }
      return el('div', { class: 'topic-row' },
        el('span', { text: label(topic) }), bar, el('span', { class: 'topic-count', text: number.format(stats.topic[topic]) }));
    });
    $('topics').replaceChildren(...rows);
  }

  function drawLegend() {
    $('legend').replaceChildren(...SENTIMENTS.map((s) => el('li', { class: `s-${s}`, text: s })));
  }

  // ---- detail --------------------------------------------------------------------------------------------

  function why(item) {
    switch (item.processing_method) {
      case 'ai':
        return `An LLM (${item.model}) chose this label with prompt ${item.prompt_version ?? 'unknown'}.`;
      case 'ml_fallback':
        return item.status === 'provisional'
          ? `The local classifier (${item.model}) answered within the time limit; the LLM's answer is still coming.`
          : `The local classifier (${item.model}) chose this label: the LLM was not used, too slow or unavailable.`;
      default:
        return 'The message is too short to analyse, so input rules set neutral / general / low.';
    }
  }

  async function openDetail(id) {
    state.openDetail = id;
    let item;
    let revisions;
    try {
      [item, revisions] = await Promise.all([api(`/feedback/${id}`), api(`/feedback/${id}/revisions`)]);
    } catch (error) {
      handleError(error);
      return;
    }
    $('detail-title').textContent = `Feedback #${item.id}`;
    $('detail-text').textContent = item.text;
    $('detail-labels').replaceChildren(...[
      chip(item.sentiment, `s-${item.sentiment}`),
      chip(label(item.topic)),
      chip(`${item.confidence_score} confidence`),
      item.alert_triggered ? chip('alert', 'alert') : null,
    ].filter(Boolean));
    $('detail-why').textContent = why(item);
    const facts = [
      ['Method', item.processing_method],
      ['Model', item.model],
      ['Prompt version', item.prompt_version ?? '–'],
      ['Confidence', `${(item.confidence * 100).toFixed(1)} % (${item.confidence_score})`],
      ['Status', item.status],
      ['Language', item.language],
      ['Received', when(item.created_at)],
      ['Source', item.source ?? '–'],
      ['Customer', item.customer_id ?? '–'],
    ];
    $('detail-facts').replaceChildren(...facts.flatMap(([name, value]) => [el('dt', { text: name }), el('dd', { text: String(value) })]));
    $('detail-scores').replaceChildren(...SENTIMENTS.map((s) => {
      const fill = el('span', { class: `fill-${s}` });
      fill.style.width = `${item.scores[s] * 100}%`;
      return el('div', { class: 'score' }, el('span', { text: s }), el('div', { class: 'score-track' }, fill),
        el('span', { text: `${(item.scores[s] * 100).toFixed(1)} %` }));
    }));
    $('detail-warnings').replaceChildren(...item.warnings.map((w) => el('p', { class: 'muted', text: `Warning: ${w}` })));
    $('detail-revisions').replaceChildren(...(revisions.items.length === 0
      ? [el('li', { class: 'muted none', text: 'None: the first answer stands.' })]
      : revisions.items.map((r) => el('li', {
        text: `${when(r.revised_at)}: ${r.previous.processing_method} ${r.previous.sentiment}/${label(r.previous.topic)} `
          + `(${Math.round(r.previous.confidence * 100)} %) → ${r.current.processing_method} ${r.current.sentiment}/${label(r.current.topic)} `
          + `(${Math.round(r.current.confidence * 100)} %${r.current.model ? `, ${r.current.model}` : ''}`
          + `${r.current.prompt_version ? `, prompt ${r.current.prompt_version}` : ''}): ${r.reason}`,
      }))));
    showLabel(item);
    const dialog = $('detail');
    if (!dialog.open) dialog.showModal();
  }

  // A person's label sits beside the model's answer; only an admin key may set it, so other sessions are told so
  // instead of being offered a button that would be refused.
  function showLabel(item) {
    const current = item.label;
    $('label-current').textContent = current
      ? `${current.sentiment} / ${label(current.topic)}, set by ${current.labelled_by} on ${when(current.labelled_at)}.`
      : 'No one has labelled this message yet.';
    $('label-sentiment').value = current ? current.sentiment : item.sentiment;
    $('label-topic').value = current ? current.topic : item.topic;
    const admin = state.scopes.includes('admin');
    $('label-form').hidden = !admin;
    $('label-admin-only').hidden = admin;
    $('label-error').hidden = true;
    $('label-save').disabled = false;
  }

  $('label-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const id = state.openDetail;
    if (id === null) return;
    $('label-save').disabled = true;
    $('label-error').hidden = true;
    const response = await fetch(`/feedback/${id}/label`, {
      method: 'PUT',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ sentiment: $('label-sentiment').value, topic: $('label-topic').value }),
    });
    if (response.status === 401) {
      showLogin();
      return;
    }
    if (!response.ok) {
      $('label-save').disabled = false;
      $('label-error').textContent = response.status === 403
        ? 'Setting a label needs a key with the admin scope.'
        : `Could not save the label (${response.status}).`;
      $('label-error').hidden = false;
      return;
    }
    if (state.openDetail === id) showLabel(await response.json());
  });

  $('detail').addEventListener('close', () => { state.openDetail = null; });
  $('detail').addEventListener('click', (event) => {
    if (event.target === $('detail')) $('detail').close();
  });

  // ---- start ---------------------------------------------------------------------------------------------

  let resizing = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => { if (state.stats) drawTimeline(state.stats); }, 150);
  });

  drawLegend();
  api('/dashboard/session').then((session) => {
    useSession(session);
    return session.signed_in ? start() : showLogin();
  }).catch(handleError);
})();
