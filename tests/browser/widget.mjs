// The messenger widget on the demo brand's site, in Debian's Chromium:
//   node --experimental-websocket widget.mjs <parley base url> <scenario>
// Each scenario drives real pages served by Parley; the agent side uses Parley's public agent API.
// Exits non-zero with the reason when a step fails, or when a page logs an error.
// The "restart" scenario prints RESTART and waits for a line on stdin once the server is back.
import { createInterface } from 'node:readline';
import { axe, browser, check, device, expectedErrors, inbox, Password, runScenario, screenshot } from './common.mjs';

const [base, scenario] = process.argv.slice(2);
/** Marks this run's messages: the demo customers' conversations persist across scenarios on one server. */
const run = Math.random().toString(36).slice(2, 7);
const Implicit = '7a3c0000-0000-4000-8000-0000000000d2';

async function open(context, path) {
  const page = await context.newPage();
  await page.goto(base + path);
  return page;
}

/** The messenger's controls; Playwright's role queries see into its (open) shadow root. */
const launcher = (page) => page.getByRole('button', { name: /^Open the chat/ });
const log = (page) => page.getByRole('log', { name: 'Conversation' });
const state = (page) => page.locator('#parley-messenger').getByRole('status');

async function openChat(page) {
  await launcher(page).click();
  await page.getByRole('textbox', { name: 'Message' }).waitFor();
}

/** Sends a message and waits until the server acknowledged it (no "Sending…" mark left). */
async function say(page, text) {
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.keyboard.press('Enter');
  await log(page).getByText(text, { exact: true }).waitFor();
  await log(page).getByText('Sending…').first().waitFor({ state: 'detached', timeout: 15000 });
}

const conversationOf = (page) => page.evaluate(() => window.Parley.conversationId);

async function logInAtBrand(context, username = 'ada') {
  const page = await open(context, '/demo-brand/login');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(Password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(/\/demo-brand(\/account)?$/);
  await page.close();
}

/** The bot asked for a login: the visitor clicks its button and logs in at the brand in the popup. */
async function logInThroughTheBot(page, username) {
  const popupOpened = page.waitForEvent('popup');
  await log(page).getByRole('button', { name: 'Log in' }).click();
  const popup = await popupOpened;
  await popup.getByLabel('Username').fill(username);
  await popup.getByLabel('Password').fill(Password);
  await popup.getByRole('button', { name: 'Log in' }).click();
  // In place, or merged into the customer's open conversation when they have one (docs/authentication.md).
  await log(page).getByText(/^You are now logged in; this conversation is authenticated\.$|^You logged in: /).last().waitFor({ timeout: 15000 });
}

// ---- the agent side, over Parley's public API ----

async function agent() {
  const login = await (await fetch(`${base}/api/v1/agent/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'agent@demo.parley.test', password: Password }),
  })).json();
  const get = async (path) => {
    const response = await fetch(base + path, { headers: { authorization: `Bearer ${login.token}` } });
    check(response.ok, `GET ${path}: ${response.status}`);
    return response.json();
  };
  const socket = new WebSocket(`${base.replace(/^http/, 'ws')}/ws/agent`);
  const expect = inbox(socket, 'agent');
  await new Promise((resolve) => { socket.onopen = resolve; });
  socket.send(JSON.stringify({ type: 'auth', token: login.token }));
  await expect((f) => f.type === 'ready', 'ready');
  let n = 0;
  return {
    get,
    expect,
    send: (frame) => socket.send(JSON.stringify(frame)),
    async accept(conversationId) {
      socket.send(JSON.stringify({ type: 'conversation.accept', conversationId, requestId: 'accept' }));
      await expect((f) => f.requestId === 'accept', 'the accept reply');
      socket.send(JSON.stringify({ type: 'conversation.subscribe', conversationId, since: 0 }));
      await expect((f) => f.type === 'subscribed', 'subscribed');
    },
    async reply(conversationId, text) {
      socket.send(JSON.stringify({ type: 'message.send', conversationId, clientMessageId: `agent-${++n}`, text }));
      await expect((f) => f.type === 'message.ack' && f.clientMessageId === `agent-${n}`, 'the ack');
    },
    async texts(conversationId) {
      const page = await get(`/api/v1/agent/conversations/${conversationId}/messages?limit=200`);
      return page.items.filter((m) => m.kind === 'text').map((m) => m.text);
    },
    close: () => socket.close(),
  };
}

// ---- scenarios ----

const scenarios = {
  /** An anonymous visitor chats with the bot; the page and the open messenger pass axe-core. */
  async anonymous() {
    const page = await open(await device(), '/demo-brand');
    check(await page.evaluate(() => Object.keys(window).filter((k) => /parley/i.test(k)).join(',')) === 'Parley', 'the widget added globals other than Parley');
    await axe(page, 'minimised');
    await openChat(page);
    await log(page).getByText('Hi! I am the Demo Bank bot', { exact: false }).waitFor();
    await say(page, 'What are your opening hours?');
    await log(page).getByText('We are open 9:00 to 17:00', { exact: false }).waitFor();
    await state(page).getByText('Connected').waitFor();
    check(!(await page.evaluate(() => window.Parley.authenticated)), 'an anonymous visitor is marked authenticated');
    await axe(page, 'open');
    // Keyboard: Escape minimises and gives the focus back to the launcher.
    await page.keyboard.press('Escape');
    check(await page.evaluate(() => document.activeElement?.id === 'parley-messenger'
      && document.activeElement.shadowRoot.activeElement?.classList.contains('launcher')), 'focus did not return to the launcher');
    await page.keyboard.press('Enter');
    await page.getByRole('textbox', { name: 'Message' }).waitFor();
    check(await page.evaluate(() => document.activeElement.shadowRoot.activeElement?.id === 'parley-text'), 'opening did not focus the message box');
  },

  /** Pre-chat implicit: the account page hands Parley the token; the agent sees verified claims. */
  async implicit() {
    const context = await device();
    await logInAtBrand(context);
    const page = await open(context, '/demo-brand/account');
    await openChat(page);
    await state(page).getByText('Connected · logged in').waitFor();
    await say(page, `Hello from my account (${run})`);
    const a = await agent();
    const panel = await a.get(`/api/v1/agent/conversations/${await conversationOf(page)}/consumer`);
    check(panel.authentication === 'authenticated' && panel.verified.subject === 'C-1815', `consumer panel: ${JSON.stringify(panel)}`);
    a.close();
  },

  /** Pre-chat code flow: the help page's getAuthenticationCode returns a code Parley exchanges. */
  async code() {
    const context = await device();
    await logInAtBrand(context, 'grace');
    const page = await open(context, '/demo-brand/code');
    await openChat(page);
    await state(page).getByText('Connected · logged in').waitFor();
    const a = await agent();
    const panel = await a.get(`/api/v1/agent/conversations/${await conversationOf(page)}/consumer`);
    check(panel.verified.subject === 'C-1906', `code flow identity: ${JSON.stringify(panel.verified)}`);
    a.close();
  },

  /**
   * Mid-chat login on a second device: Ada chats logged in on her phone; on her laptop she chats
   * anonymously and the bot's case needs a login (a popup). After it, the laptop shows her one open
   * conversation — the phone's messages, what the laptop wrote before, the bot's answer — and the
   * phone and the agent see the same one.
   */
  async midchat() {
    const phoneContext = await device();
    await logInAtBrand(phoneContext, 'ada');
    const phone = await open(phoneContext, '/demo-brand/account');
    await openChat(phone);
    await say(phone, `Phone, before the laptop (${run})`);
    const customers = await conversationOf(phone);

    const page = await open(await device(), '/demo-brand');
    await openChat(page);
    await say(page, `Can I get a statement copy? (${run})`);
    const anonymous = await conversationOf(page);
    check(anonymous !== customers, 'the anonymous laptop shows the customer\'s conversation');
    await logInThroughTheBot(page, 'ada');
    await log(page).getByText('Your statement copy is on its way', { exact: false }).last().waitFor();
    await state(page).getByText('Connected · logged in').waitFor();
    check(await conversationOf(page) === customers, 'the laptop did not continue in the customer\'s conversation');
    await log(page).getByText(`Phone, before the laptop (${run})`, { exact: true }).waitFor();
    await log(page).getByText(`Can I get a statement copy? (${run})`, { exact: true }).waitFor();
    await log(page).getByText('You logged in: your chat from before the login was added above.', { exact: false }).last().waitFor();
    check(await log(page).getByRole('button', { name: 'Log in', disabled: false }).count() === 0, 'a login button is still active');
    if (!(await page.getByRole('alert').isHidden())) throw new Error(`a notice is shown after the login: ${await page.getByRole('alert').textContent()}`);

    // The phone sees what the laptop wrote, live; the agent sees one open conversation of Ada's.
    await log(phone).getByText(`Can I get a statement copy? (${run})`, { exact: true }).waitFor();
    await log(phone).getByText('Your statement copy is on its way', { exact: false }).last().waitFor();
    const a = await agent();
    const merged = await a.get(`/api/v1/agent/conversations/${anonymous}`);
    const kept = await a.get(`/api/v1/agent/conversations/${customers}`);
    check(merged.status === 'closed' && kept.status === 'open', `after the merge: ${merged.status}, ${kept.status}`);
    const adasOpen = (await a.get('/api/v1/agent/conversations?status=open&limit=500')).filter((c) => c.consumerId === kept.consumerId);
    check(adasOpen.length === 1, `Ada has ${adasOpen.length} open conversations`);
    check((await a.texts(customers)).includes(`Can I get a statement copy? (${run})`), 'the agent does not see the laptop\'s question');
    a.close();
    await screenshot(page, 'widget-mid-chat-login');
    await screenshot(phone, 'widget-mid-chat-login-other-device');
  },

  /** Separate window: the launcher opens Parley's window; the bot's login redirects it and comes back. */
  async window() {
    const context = await device();
    const page = await open(context, '/demo-brand/window');
    const opened = page.waitForEvent('popup');
    await launcher(page).click();
    const messenger = await opened;
    await messenger.waitForURL(/\/messenger\//);
    await messenger.getByRole('textbox', { name: 'Message' }).waitFor();
    await axe(messenger, 'separate window');
    await messenger.getByRole('textbox', { name: 'Message' }).fill('statement copy please');
    await messenger.keyboard.press('Enter');
    await log(messenger).getByRole('button', { name: 'Log in' }).click();
    await messenger.getByLabel('Username').fill('grace');
    await messenger.getByLabel('Password').fill(Password);
    await messenger.getByRole('button', { name: 'Log in' }).click();
    await messenger.waitForURL(/\/messenger\//);
    await log(messenger).getByText(/^You are now logged in; this conversation is authenticated\.$|^You logged in: /).last().waitFor({ timeout: 15000 });
    await log(messenger).getByText('statement copy please', { exact: true }).last().waitFor();
    await screenshot(messenger, 'widget-separate-window');
  },

  /** Two browser contexts are two devices of the same logged-in customer: one conversation. */
  async devices() {
    const phone = await device();
    const laptop = await device();
    await logInAtBrand(phone);
    await logInAtBrand(laptop);
    const one = await open(phone, '/demo-brand/account');
    await openChat(one);
    await say(one, `Sent from my phone (${run})`);
    const two = await open(laptop, '/demo-brand/account');
    await openChat(two);
    await log(two).getByText(`Sent from my phone (${run})`, { exact: true }).waitFor();
    check(await conversationOf(one) === await conversationOf(two), 'the devices show different conversations');
    await say(two, `And this from my laptop (${run})`);
    await log(one).getByText(`And this from my laptop (${run})`, { exact: true }).waitFor();
  },

  /** The authenticated conversation stays off public pages, with a pointer to the logged-in page. */
  async public() {
    const context = await device();
    await logInAtBrand(context);
    const account = await open(context, '/demo-brand/account');
    await openChat(account);
    await say(account, `My private question (${run})`);
    await account.goto(base + '/demo-brand');
    await account.getByRole('alert').getByText('Continue it on a page where you are logged in', { exact: false }).waitFor();
    check(await log(account).getByText(`My private question (${run})`).count() === 0, 'the authenticated conversation is shown on the public page');
    check(!(await account.evaluate(() => window.Parley.authenticated)), 'the public page uses the authenticated session');
    await account.goto(base + '/demo-brand/account');
    await log(account).getByText(`My private question (${run})`, { exact: true }).waitFor();
  },

  /**
   * A shared device: Ada chats on My account, then the bank logs her out without telling the chat
   * (the page's own logout URL); Grace logs in on the same browser. Nothing of Ada's conversation
   * shows, also after a reload, and Grace's messages never reach it. Then Grace uses the bank's
   * Log out link, which calls Parley.logout(): the public page shows nothing of her conversation.
   */
  async shared() {
    const context = await device();
    await logInAtBrand(context, 'ada');
    const page = await open(context, '/demo-brand/account');
    await openChat(page);
    await state(page).getByText('Connected · logged in').waitFor();
    await say(page, `Ada's private question (${run})`);
    const adas = await conversationOf(page);
    // Minimised, so that the public page the bank's logout leads to starts no anonymous chat of its own.
    await page.getByRole('button', { name: 'Minimize the chat' }).click();

    await page.goto(base + '/demo-brand/logout'); // the bank forgets Ada; the chat is not told
    await logInAtBrand(context, 'grace');
    await page.goto(base + '/demo-brand/account');
    await openChat(page);
    await state(page).getByText('Connected · logged in').waitFor();
    await say(page, `Grace's question (${run})`);
    check(await log(page).getByText(`Ada's private question (${run})`).count() === 0, "Ada's conversation is shown to Grace");
    check(await conversationOf(page) !== adas, "Grace writes into Ada's conversation");
    await page.reload();
    await openChat(page);
    await log(page).getByText(`Grace's question (${run})`, { exact: true }).waitFor();
    check(await log(page).getByText(`Ada's private question (${run})`).count() === 0, "Ada's conversation is shown after a reload");
    await screenshot(page, 'widget-shared-device');

    const a = await agent();
    const texts = await a.texts(adas);
    check(!texts.some((t) => t.includes('Grace')), `Grace's message reached Ada's conversation: ${texts.join(' | ')}`);
    const adaEvents = (await a.get(`/api/v1/agent/conversations/${adas}/messages?limit=200`)).items.filter((m) => m.kind === 'event').map((m) => m.text);
    check(adaEvents.includes('authentication.logged_out'), `the agent is not told Ada logged out: ${adaEvents.join(', ')}`);
    a.close();

    await page.getByRole('link', { name: 'Log out' }).click();
    await page.waitForURL(/\/demo-brand$/);
    await openChat(page);
    await state(page).getByText('Connected').waitFor();
    check(await log(page).getByText(`Grace's question (${run})`).count() === 0, "Grace's conversation is shown after she logged out");
    check(await page.getByRole('alert').count() === 0 || !(await page.getByRole('alert').innerText()).includes('logged-in customer'),
      'the public page still offers to continue the logged-out conversation');
    check(!(await page.evaluate(() => window.Parley.authenticated)), 'still authenticated after Parley.logout()');
  },

  /** Minimised: new messages raise the unread badge (and its accessible name); opening clears it and sends a read receipt. */
  async unread() {
    const page = await open(await device(), '/demo-brand');
    await openChat(page);
    await say(page, 'I want to talk to an agent');
    const conversationId = await conversationOf(page);
    await page.evaluate(() => { window.sounds = 0; window.Parley.on('sound', () => { window.sounds++; }); });
    await page.getByRole('button', { name: 'Minimize the chat' }).click();
    const a = await agent();
    await a.accept(conversationId);
    await a.reply(conversationId, 'Hello, I am Sam.');
    await a.reply(conversationId, 'How can I help?');
    await page.getByRole('button', { name: /2 unread messages/ }).waitFor();
    check((await page.evaluate(() => window.Parley.unread)) === 2, 'Parley.unread is not 2');
    check((await page.evaluate(() => window.sounds)) === 2, 'not one sound per new message while minimised');
    check(await page.locator('#parley-messenger .badge').innerText() === '2', 'the badge does not show 2');
    const read = a.expect((f) => f.type === 'receipt' && f.receipt.role === 'consumer' && f.receipt.readSeq >= 1, 'a read receipt');
    await launcher(page).click();
    await log(page).getByText('How can I help?', { exact: true }).waitFor();
    await read;
    check(await page.locator('#parley-messenger .badge').isHidden(), 'the badge stays after opening');
    // Read marks: the visitor sees "Read" once the agent has read their message.
    await say(page, 'Thanks');
    const last = (await a.get(`/api/v1/agent/conversations/${conversationId}/messages?limit=200`)).items.at(-1).seq;
    a.send({ type: 'receipt', conversationId, deliveredSeq: last, readSeq: last });
    await log(page).getByText('Read', { exact: true }).waitFor();
    a.close();
  },

  /** End, resume, start a new conversation, and clear the history from this device. */
  async lifecycle() {
    const page = await open(await device(), '/demo-brand');
    await openChat(page);
    await say(page, 'First conversation');
    const first = await conversationOf(page);
    await page.getByRole('button', { name: 'End conversation' }).click();
    await log(page).getByText('The conversation has ended.').waitFor();
    check(await page.getByRole('textbox', { name: 'Message' }).isHidden(), 'the message box stays after the end');
    await page.getByRole('button', { name: 'Resume' }).click();
    await log(page).getByText('The conversation was resumed.').waitFor();
    await say(page, 'Still the first conversation');
    check(await conversationOf(page) === first, 'resume started another conversation');
    await page.getByRole('button', { name: 'End conversation' }).click();
    await page.getByRole('button', { name: 'New conversation' }).click();
    await log(page).getByText('Hi! I am the Demo Bank bot', { exact: false }).waitFor();
    const second = await conversationOf(page);
    check(second && second !== first, 'no new conversation');
    check(await log(page).getByText('First conversation').count() === 0, 'the new conversation shows the old one');
    await say(page, 'Second conversation');
    await page.getByRole('button', { name: 'Clear history' }).click();
    await page.getByRole('button', { name: 'Clear', exact: true }).click();
    await page.getByRole('alert').getByText('The conversation was cleared from this device.').waitFor();
    check(await log(page).getByText('Second conversation').count() === 0, 'the cleared conversation is still shown');
    await page.reload();
    await openChat(page);
    await log(page).getByText('Hi! I am the Demo Bank bot', { exact: false }).waitFor();
    check(await log(page).getByText('Second conversation').count() === 0, 'the cleared conversation came back after a reload');
    check(await conversationOf(page) !== second, 'the device still reaches the cleared conversation');
  },

  /** One conversation per page: logged in, the customer's authenticated conversation wins; after logout the device's anonymous one is back. */
  async priority() {
    const phone = await device();
    await logInAtBrand(phone);
    const account = await open(phone, '/demo-brand/account');
    await openChat(account);
    await say(account, `Authenticated question (${run})`);

    const laptop = await device();
    const home = await open(laptop, '/demo-brand');
    await openChat(home);
    await say(home, `Anonymous question (${run})`);
    await logInAtBrand(laptop);
    await home.goto(base + '/demo-brand/account');
    await log(home).getByText(`Authenticated question (${run})`, { exact: true }).waitFor();
    check(await log(home).getByText(`Anonymous question (${run})`).count() === 0, 'the anonymous conversation is shown next to the authenticated one');
    await home.goto(base + '/demo-brand/logout');
    await home.waitForURL(/\/demo-brand$/);
    await log(home).getByText(`Anonymous question (${run})`, { exact: true }).waitFor();
  },

  /** The server restarts mid-conversation: the widget reconnects, resumes, and sends what was queued once. */
  async restart() {
    const page = await open(await device(), '/demo-brand');
    await openChat(page);
    await say(page, 'Before the restart');
    const conversationId = await conversationOf(page);
    expectedErrors.push(/^WebSocket connection to '.*' failed: .*ERR_CONNECTION_REFUSED/);
    console.log('RESTART');
    await page.evaluate(() => new Promise((resolve) => window.Parley.on('connection', (s) => { if (s !== 'connected') resolve(); })));
    await page.getByRole('textbox', { name: 'Message' }).fill('Written while the server is down');
    await page.keyboard.press('Enter');
    await log(page).getByText('Sending…').waitFor();
    await state(page).getByText(/Reconnecting/).waitFor();
    const input = createInterface({ input: process.stdin });
    await new Promise((resolve) => input.once('line', resolve));
    input.close();
    process.stdin.destroy();
    await state(page).getByText('Connected').waitFor({ timeout: 30000 });
    await log(page).getByText('Sending…').waitFor({ state: 'detached', timeout: 15000 });
    await say(page, 'After the restart');
    await page.reload();
    await log(page).getByText('After the restart', { exact: true }).waitFor();
    const a = await agent();
    const texts = await a.texts(conversationId);
    for (const text of ['Before the restart', 'Written while the server is down', 'After the restart']) {
      check(texts.filter((t) => t === text).length === 1, `"${text}" is stored ${texts.filter((t) => t === text).length} times: ${JSON.stringify(texts)}`);
    }
    for (const text of ['Before the restart', 'Written while the server is down', 'After the restart']) {
      check(await log(page).getByText(text, { exact: true }).count() === 1, `"${text}" is not shown exactly once after the reload`);
    }
    a.close();
  },

  /**
   * Expiry (the server runs with short-lived demo tokens and no session TTL): on the account page
   * the widget renews the login from the page and the conversation goes on; on a public page a
   * mid-chat login that expires tells the visitor where to continue.
   */
  async expiry() {
    const context = await device();
    await logInAtBrand(context);
    const page = await open(context, '/demo-brand/account');
    await openChat(page);
    await say(page, `Before my login expires (${run})`);
    const conversationId = await conversationOf(page);
    const expired = Date.now() + Number(process.env.TOKEN_SECONDS ?? 20) * 1000 + 3000;
    await page.waitForTimeout(expired - Date.now());
    await say(page, `After my login expired (${run})`);
    await log(page).getByText('Sending…').waitFor({ state: 'detached', timeout: 15000 });
    check(await conversationOf(page) === conversationId, 'renewal started another conversation');
    check(await page.getByRole('alert').isHidden(), 'a notice is shown after the renewal');
    const a = await agent();
    const texts = await a.texts(conversationId);
    check(texts.includes(`After my login expired (${run})`), `the message after the renewal is not stored: ${JSON.stringify(texts)}`);
    a.close();

    // A login made in the chat, on a public page (popup) and in the separate window (redirect),
    // expires too: the messenger's Log in button renews it and the same conversation goes on.
    const visitor = await open(await device(), '/demo-brand');
    await openChat(visitor);
    await say(visitor, 'statement copy');
    await logInThroughTheBot(visitor, 'grace');
    const windowPage = await open(await device(), '/demo-brand/window');
    const opened = windowPage.waitForEvent('popup');
    await launcher(windowPage).click();
    const messenger = await opened;
    await messenger.waitForURL(/\/messenger\//);
    await messenger.getByRole('textbox', { name: 'Message' }).fill(`statement copy please (${run})`);
    await messenger.keyboard.press('Enter');
    await log(messenger).getByRole('button', { name: 'Log in' }).last().click();
    await messenger.getByLabel('Username').fill('ada');
    await messenger.getByLabel('Password').fill(Password);
    await messenger.getByRole('button', { name: 'Log in' }).click();
    await messenger.waitForURL(/\/messenger\//);
    await log(messenger).getByText(/^You are now logged in; this conversation is authenticated\.$|^You logged in: /).last().waitFor({ timeout: 15000 });

    for (const [page, where] of [[visitor, 'public page'], [messenger, 'separate window']]) {
      const alert = page.getByRole('alert');
      await alert.getByText('Your login has expired. Log in again', { exact: false }).waitFor({ timeout: 40000 });
      const before = await conversationOf(page);
      if (where === 'public page') await screenshot(page, 'widget-login-expired');
      // The brand still knows the visitor (its own session): the login completes without a form.
      await alert.getByRole('button', { name: 'Log in' }).click();
      await alert.waitFor({ state: 'hidden', timeout: 15000 });
      await state(page).getByText('Connected · logged in').waitFor({ timeout: 15000 });
      check(await conversationOf(page) === before, `${where}: the renewal changed the conversation`);
      await say(page, `Renewed on the ${where} (${run})`);
      const a = await agent();
      check((await a.texts(before)).includes(`Renewed on the ${where} (${run})`), `${where}: the message after the renewal is not in the conversation`);
      a.close();
    }
  },
};

/** On failure: what each open messenger showed, to read in the test output. */
async function dump() {
  for (const context of browser.contexts()) {
    for (const page of context.pages()) {
      const shown = await page.evaluate(() => [...(document.getElementById('parley-messenger')?.shadowRoot?.querySelectorAll('li, [role=alert], [role=status]') ?? [])]
        .map((e) => `${e.dataset.seq ?? e.getAttribute('role') ?? '-'}: ${e.textContent}`).join('\n')).catch((e) => String(e));
      console.error(`--- ${page.url()}\n${shown}`);
    }
  }
}

await runScenario(scenarios, scenario, dump);
