// A minimal messenger for the demo brand's pages, on Parley's public API (REST + WebSocket).
// It shows what a brand's page does: call getAuthenticationToken on logged-in pages, keep the
// device's anonymous visitor token, follow the bot's login link in a popup, and send the result
// back to Parley. The embeddable widget is a separate component; this page script is only a demo.
(function () {
  'use strict';
  var script = document.currentScript;
  var deploymentId = script.getAttribute('data-deployment');
  var authenticatedPage = script.getAttribute('data-authenticated') === 'true';
  var key = 'parley.demo.' + deploymentId;
  var log = document.getElementById('chat-log');
  var form = document.getElementById('chat-form');
  var input = document.getElementById('chat-text');
  var status = document.getElementById('chat-status');
  var socket = null;
  var conversationId = null;
  var lastSeq = 0;

  function show(text, kind) {
    var item = document.createElement('li');
    item.textContent = text;
    if (kind) { item.className = kind; }
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    return item;
  }

  function pageToken() {
    return new Promise(function (resolve) {
      if (!authenticatedPage || typeof window.getAuthenticationToken !== 'function') { resolve(null); return; }
      var timer = setTimeout(function () { resolve(null); }, 10000);
      window.getAuthenticationToken(function (token) { clearTimeout(timer); resolve(token || null); });
    });
  }

  async function startSession() {
    var anonymous = localStorage.getItem(key + '.anonymous');
    var jwt = await pageToken();
    var response = await fetch('/api/v1/sessions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ deploymentId: deploymentId, visitorToken: sessionStorage.getItem(key + '.upgraded') || anonymous, jwt: jwt })
    });
    var session = await response.json();
    if (!response.ok) { throw new Error(session.detail || 'The session was refused.'); }
    if (!session.authenticated) { localStorage.setItem(key + '.anonymous', session.visitorToken); }
    return session;
  }

  function render(message) {
    if (message.seq <= lastSeq) { return; }
    lastSeq = message.seq;
    var who = { consumer: 'You', agent: 'Agent', bot: 'Bot', system: 'Parley' }[message.senderRole] || message.senderRole;
    if (message.kind === 'text') { show(who + ': ' + message.text); return; }
    if (message.text === 'authentication.requested') {
      var item = show('Bot: please log in to continue. ', 'event');
      var button = document.createElement('button');
      button.type = 'button';
      button.textContent = 'Log in';
      button.addEventListener('click', function () { window.open(message.data.url, 'parley-login', 'width=480,height=640'); });
      item.appendChild(button);
    } else if (message.text === 'authentication.upgraded') {
      show('You are now logged in; this conversation is authenticated.', 'event');
    } else {
      show('(' + message.text + ')', 'event');
    }
  }

  function send(frame) { socket.send(JSON.stringify(frame)); }

  function connect(token) {
    socket = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws/consumer?deploymentId=' + deploymentId);
    socket.onopen = function () { send({ type: 'auth', token: token }); };
    socket.onmessage = function (event) {
      var frame = JSON.parse(event.data);
      if (frame.type === 'ready') { send({ type: 'conversation.start', requestId: 'start' }); }
      else if (frame.type === 'conversation' && frame.requestId === 'start') {
        conversationId = frame.conversation.id;
        send({ type: 'conversation.subscribe', conversationId: conversationId, since: lastSeq });
      }
      else if (frame.type === 'subscribed') { status.textContent = authenticatedPage ? 'Connected as a logged-in customer.' : 'Connected.'; }
      else if (frame.type === 'message') { render(frame.message); }
      else if (frame.type === 'session') { sessionStorage.setItem(key + '.upgraded', frame.visitorToken); }
      else if (frame.type === 'auth.expired') { status.textContent = 'Your login has expired. Reload the page to log in again.'; }
      else if (frame.type === 'error') { status.textContent = 'Error: ' + frame.message; }
    };
    socket.onclose = function () { status.textContent = 'Disconnected. Reload the page to reconnect.'; };
  }

  // The login popup lands on Parley's callback page, which posts the result here.
  window.addEventListener('message', function (event) {
    if (event.origin !== location.origin || !event.data || event.data.type !== 'parley.login' || !conversationId) { return; }
    var d = event.data;
    if (d.error) { status.textContent = 'The login did not complete: ' + (d.error_description || d.error); return; }
    send({ type: 'conversation.authenticate', conversationId: conversationId, state: d.state, code: d.code, jwt: d.id_token, assertion: d.assertion, requestId: 'login' });
  });

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text || !conversationId) { return; }
    send({ type: 'message.send', conversationId: conversationId, clientMessageId: crypto.randomUUID(), text: text });
    input.value = '';
  });

  startSession().then(function (session) { connect(session.visitorToken); })
    .catch(function (error) { status.textContent = error.message; });
})();
