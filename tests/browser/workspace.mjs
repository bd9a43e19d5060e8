// The agent workspace and admin console (/app/) in Debian's Chromium:
//   node --experimental-websocket workspace.mjs <parley base url> <scenario>
// Scenarios drive the real app served by Parley; the customer is a test client speaking Parley's
// public visitor protocol, and logs in with tokens from the demo brand's identity provider.
// Exits non-zero with the reason when a step fails, or when a page logs an error.
import { createInterface } from 'node:readline';
import { axe, browser, check, device, expectedErrors, inbox, Password, runScenario, screenshot } from './common.mjs';

const [base, scenario] = process.argv.slice(2);
const Implicit = '7a3c0000-0000-4000-8000-0000000000d2';
const run = Math.random().toString(36).slice(2, 7);

async function post(path, body, headers = {}) {
  const response = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  check(response.ok, `POST ${path}: ${response.status} ${await response.clone().text()}`);
  return response.json();
}

/** A token from the demo brand's identity provider, as its pages get one for a logged-in customer. */
async function brandToken(username) {
  const login = await fetch(`${base}/demo-brand/login`, {
    method: 'POST', body: new URLSearchParams({ username, password: Password }), redirect: 'manual',
  });
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const { token } = await (await fetch(`${base}/demo-brand/page-token`, { headers: { cookie } })).json();
  check(token, `the demo brand gave no token for ${username}`);
  return token;
}

/** The customer: a visitor session, the consumer WebSocket, frames in and out. */
async function customer(deploymentId, attributes, visitorToken = null) {
  const session = visitorToken ? { visitorToken } : await post('/api/v1/sessions', { deploymentId });
  const socket = new WebSocket(`${base.replace(/^http/, 'ws')}/ws/consumer?deploymentId=${deploymentId}`);
  const expect = inbox(socket, 'customer');
  const send = (frame) => socket.send(JSON.stringify(frame));
  await new Promise((resolve) => { socket.onopen = resolve; });
  send({ type: 'auth', token: session.visitorToken });
  await expect((f) => f.type === 'ready', 'ready');
  send({ type: 'conversation.start', attributes, requestId: 'start' });
  const { conversation } = await expect((f) => f.requestId === 'start', 'the conversation');
  send({ type: 'conversation.subscribe', conversationId: conversation.id, since: 0 });
  await expect((f) => f.type === 'subscribed', 'subscribed');
  // Unique per client: a resent clientMessageId is a duplicate to Parley, whichever socket sends it.
  const prefix = Math.random().toString(36).slice(2, 8);
  let n = 0;
  return {
    id: conversation.id,
    visitorToken: session.visitorToken,
    expect,
    async say(text) {
      const clientMessageId = `customer-${prefix}-${++n}`;
      send({ type: 'message.send', conversationId: conversation.id, clientMessageId, text });
      return expect((f) => f.type === 'message.ack' && f.clientMessageId === clientMessageId, `the ack of "${text}"`);
    },
    read: (seq) => send({ type: 'receipt', conversationId: conversation.id, deliveredSeq: seq, readSeq: seq }),
    typing: (isTyping) => send({ type: 'typing', conversationId: conversation.id, isTyping }),
    async authenticate(jwt) {
      send({ type: 'conversation.authenticate', conversationId: conversation.id, jwt, requestId: 'login' });
      const reply = await expect((f) => f.requestId === 'login', 'the login reply');
      check(reply.type === 'session' && reply.authenticated, `the mid-chat login was refused: ${JSON.stringify(reply)}`);
    },
    close: () => socket.close(),
  };
}

async function signIn(page, email) {
  await page.goto(`${base}/app/`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(Password);
  await page.getByRole('button', { name: 'Sign in' }).press('Enter');
  await page.getByRole('button', { name: 'Log out' }).waitFor();
}

const transcript = (page) => page.getByRole('log', { name: 'Messages' });
const panel = (page) => page.getByRole('complementary', { name: 'Customer' });

const scenarios = {
  /** An agent takes a waiting conversation, talks with the customer, and sees them log in and their login expire. */
  async agent() {
    const context = await device({ viewport: { width: 1360, height: 820 } });
    const page = await context.newPage();
    let framesSent = 0;
    page.on('websocket', (socket) => socket.on('framesent', () => framesSent++));
    await signIn(page, 'agent@demo.parley.test');
    await page.getByText('Connected').waitFor();
    await axe(page, 'workspace, empty');

    const visitor = await customer(Implicit, { page: '/pricing', cart: '149.00', name: `Visitor ${run}` });
    await visitor.say('I would like to talk to an agent please');
    const waitingItem = page.getByRole('list', { name: 'Waiting conversations' }).locator(`[data-conversation="${visitor.id}"]`);
    await waitingItem.waitFor();
    check((await waitingItem.textContent()).includes('general'), 'the waiting item shows its queue');
    await waitingItem.getByRole('button', { name: 'Accept' }).click();
    await page.waitForURL(`**/app/#/conversations/${visitor.id}`);
    await page.getByRole('list', { name: 'My conversations' }).locator(`[data-conversation="${visitor.id}"]`).waitFor();

    // Anonymous so far: the page's data is there, labelled unverified, and nothing is verified.
    await panel(page).getByTestId('auth-state').getByText('Anonymous').waitFor();
    await panel(page).getByRole('region', { name: /^Unverified/ }).getByText('149.00').waitFor();
    check(await panel(page).getByRole('region', { name: /^Verified/ }).count() === 0, 'an anonymous customer has no verified section');
    await transcript(page).getByText('I would like to talk to an agent please').waitFor();

    // Both ways, with typing, delivery and read marks.
    await visitor.typing(true);
    await page.getByText('The customer is typing…').waitFor();
    await visitor.say(`Where is my order ${run}?`);
    await transcript(page).getByText(`Where is my order ${run}?`).waitFor();
    await page.getByTestId('last-consumer').getByText(/Customer wrote \d+ s ago/).waitFor();
    const reply = `Let me check that for you, ${run}.`;
    await page.getByRole('textbox', { name: 'Message' }).fill(reply);
    await page.keyboard.press('Enter');
    const received = await visitor.expect((f) => f.type === 'message' && f.message.text === reply, 'the agent reply');
    check(received.message.senderRole === 'agent', 'the reply comes from the agent');
    const mine = transcript(page).locator('li.message.agent', { hasText: reply });
    await mine.getByText('Sent').or(mine.getByText('Delivered')).waitFor();
    visitor.read(received.message.seq);
    await mine.getByText('Read').waitFor();

    // Idle means idle: no frame goes out while nothing happens (a render loop would show here).
    const before = framesSent;
    await page.waitForTimeout(2000);
    check(framesSent === before, `the app sent ${framesSent - before} frames while idle`);

    // Out of view: a new message counts in the title and the list, and chimes.
    await page.getByRole('link', { name: 'Workspace' }).click();
    await page.getByText('Pick a conversation').waitFor();
    const chimesBefore = await page.evaluate(() => window.parleyChimes ?? 0);
    await visitor.say('Are you still there?');
    await page.waitForFunction(() => document.title === '(1) Parley');
    await page.getByRole('list', { name: 'My conversations' }).getByLabel('1 unread').waitFor();
    check(await page.evaluate(() => window.parleyChimes ?? 0) === chimesBefore + 1, 'one chime for the new message');
    await page.getByRole('list', { name: 'My conversations' }).locator(`[data-conversation="${visitor.id}"]`).getByRole('link').click();
    await transcript(page).getByText('Are you still there?').waitFor();
    await page.waitForFunction(() => document.title === 'Parley');

    // The customer logs in mid-chat: the event, the check mark, verified apart from unverified.
    await visitor.authenticate(await brandToken('grace'));
    await transcript(page).locator('[data-event="authentication.upgraded"]').waitFor();
    await panel(page).getByTestId('auth-state').getByText('Authenticated').waitFor();
    const verified = panel(page).getByRole('region', { name: /^Verified/ });
    await verified.getByText('grace@demo-brand.example').waitFor();
    await verified.getByText('C-1906').waitFor();
    await verified.getByText('Hopper').waitFor();
    const unverified = panel(page).getByRole('region', { name: /^Unverified/ });
    check(await unverified.getByText('grace@demo-brand.example').count() === 0, 'verified claims are not in the unverified section');
    check(await verified.getByText('149.00').count() === 0, 'page attributes are not in the verified section');
    check(await page.locator('h1 .mark.verified').count() === 1, 'the conversation header shows the check mark');
    await axe(page, 'workspace, authenticated conversation');

    // After the login the customer is one participant: what they read shows as Read.
    const afterLogin = `Thanks, I can see your account now (${run}).`;
    await page.getByRole('textbox', { name: 'Message' }).fill(afterLogin);
    await page.keyboard.press('Enter');
    const got = await visitor.expect((f) => f.type === 'message' && f.message.text === afterLogin, 'the reply after the login');
    const replied = transcript(page).locator('li.message.agent', { hasText: afterLogin });
    await replied.getByText('Sent').or(replied.getByText('Delivered')).waitFor();
    visitor.read(got.message.seq);
    await replied.getByText('Read').waitFor();
    await screenshot(page, 'workspace-authenticated');

    // The login expires (the demo's tokens live 30 s here): the event, and the panel says so.
    await transcript(page).locator('[data-event="authentication.expired"]').waitFor({ timeout: 60000 });
    await panel(page).getByTestId('auth-state').getByText('Authentication expired').waitFor();
    await screenshot(page, 'workspace-expired');

    // Close, then find it among all conversations by its text and open the transcript.
    await page.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('button', { name: 'Resume' }).click();
    await transcript(page).locator('[data-event="conversation.resumed"]').waitFor();
    await page.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('button', { name: 'Resume' }).waitFor();
    await page.getByRole('link', { name: 'All conversations' }).click();
    await page.getByLabel('Text').fill(`order ${run}`);
    await page.getByRole('button', { name: 'Search' }).click();
    const results = page.getByRole('table', { name: 'Results' });
    await results.waitFor();
    check(await results.getByRole('row').count() === 2, 'the search finds exactly this conversation');
    await results.getByRole('link').first().click();
    await transcript(page).getByText(`Where is my order ${run}?`).waitFor();
    await axe(page, 'transcript');

    // The session ends (cookie gone): the next call shows the login again. That call may be the
    // agent's search or one the page makes by itself (a conversation update reloads the queue and
    // the customer panel); whichever comes first signs the page out.
    expectedErrors.push(/status of 401/);
    await context.clearCookies();
    const signedOut = page.getByText('Your session has ended. Please sign in again.');
    try {
      await page.getByRole('link', { name: 'All conversations' }).click({ timeout: 5000 });
      await page.getByRole('button', { name: 'Search' }).click({ timeout: 5000 });
    } catch (error) {
      if (!await signedOut.isVisible()) {
        throw error;
      }
    }
    await signedOut.waitFor();
    await signIn(page, 'agent@demo.parley.test');
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    visitor.close();
  },

  /**
   * The server is SIGKILLed and restarted mid-conversation: the app reconnects by itself, a reply
   * written while the server was down is sent once, and nothing is lost or shown twice.
   */
  async restart() {
    const context = await device({ viewport: { width: 1360, height: 820 } });
    const page = await context.newPage();
    await signIn(page, 'agent@demo.parley.test');
    const visitor = await customer(Implicit, { page: '/help' });
    await visitor.say(`Agent please (${run})`);
    const waitingItem = page.getByRole('list', { name: 'Waiting conversations' }).locator(`[data-conversation="${visitor.id}"]`);
    await waitingItem.getByRole('button', { name: 'Accept' }).click();
    await page.waitForURL(`**/app/#/conversations/${visitor.id}`);
    await visitor.say('Before the restart');
    await transcript(page).getByText('Before the restart').waitFor();

    // A request in flight when the server dies is reset; while it is down, connections are refused.
    expectedErrors.push(/ERR_CONNECTION_REFUSED/, /ERR_CONNECTION_RESET/, /status of 503/);
    console.log('RESTART');
    await page.getByText('Reconnecting…').waitFor({ timeout: 15000 });
    const reply = 'Written while the server is down';
    await page.getByRole('textbox', { name: 'Message' }).fill(reply);
    await page.keyboard.press('Enter');
    await transcript(page).getByText('Sending…').waitFor();
    const input = createInterface({ input: process.stdin });
    await new Promise((resolve) => input.once('line', resolve));
    input.close();
    process.stdin.destroy();

    await page.getByText('Connected').waitFor({ timeout: 30000 });
    await transcript(page).getByText('Sending…').waitFor({ state: 'detached', timeout: 15000 });
    const back = await customer(Implicit, {}, visitor.visitorToken);
    check(back.id === visitor.id, 'the customer is back in the same conversation');
    await back.expect((f) => f.type === 'message' && f.message.text === reply, 'the reply written while the server was down');
    await back.say('After the restart');
    await transcript(page).getByText('After the restart').waitFor();

    const texts = [`Agent please (${run})`, 'Before the restart', reply, 'After the restart'];
    for (const reload of [false, true]) {
      if (reload) {
        await page.reload();
        await transcript(page).getByText('After the restart').waitFor();
      }
      for (const text of texts) {
        check(await transcript(page).getByText(text, { exact: true }).count() === 1, `"${text}" is not shown exactly once${reload ? ' after a reload' : ''}`);
      }
    }
    back.close();
  },

  /** An admin creates authentication settings and tests a good and a bad token in the tester. */
  async admin() {
    const context = await device({ viewport: { width: 1360, height: 900 } });
    const page = await context.newPage();
    await signIn(page, 'admin@demo.parley.test');
    await page.getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('heading', { name: 'Authentication settings' }).waitFor();
    await page.getByRole('button', { name: 'New settings' }).click();

    const jwks = await (await fetch(`${base}/demo-brand/jwks`)).text();
    const name = `Brand site ${run}`;
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.getByLabel('Issuer').fill(`${base}/demo-brand`);
    await page.getByLabel('Client id').fill('parley-demo');
    await page.getByLabel('Keys from').selectOption('keysDocument');
    await page.getByLabel('Keys', { exact: true }).fill(jwks);
    await page.getByLabel('Claim labels').fill('given_name = First name\ncustomer_id = Customer number');
    await page.getByLabel('Client secret (code flow)').fill('write-only-secret');
    await axe(page, 'settings editor');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: `Token tester — ${name}` }).waitFor();
    await page.getByRole('table', { name: 'Authentication settings' }).getByText(name).waitFor();

    // A good token: every check passes.
    const good = await brandToken('ada');
    const tester = page.getByRole('region', { name: /^Token tester/ });
    await tester.getByLabel(/^Token/).fill(good);
    await tester.getByRole('button', { name: 'Test' }).click();
    await tester.getByTestId('verdict').getByText('Valid').waitFor();
    check(await tester.getByRole('list', { name: 'Checks' }).getByLabel('failed').count() === 0, 'no check fails for a good token');
    await tester.getByText('ada@demo-brand.example').waitFor();

    // A forged one (the payload changed, the signature kept): refused at the signature, with the reason.
    const [header, payload, signature] = good.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forged = [header, Buffer.from(JSON.stringify({ ...claims, sub: 'C-0001' })).toString('base64url'), signature].join('.');
    await tester.getByLabel(/^Token/).fill(forged);
    await tester.getByRole('button', { name: 'Test' }).click();
    await tester.getByTestId('verdict').getByText(/Refused: invalid_token/).waitFor();
    const failed = tester.getByRole('list', { name: 'Checks' }).locator('li.fail');
    check((await failed.textContent()).includes('signature'), `the failed check is the signature: ${await failed.textContent()}`);
    await axe(page, 'token tester');
    await screenshot(page, 'admin-token-tester');

    // The secret is write-only: the editor only says it is set.
    await page.getByRole('row', { name: new RegExp(name) }).getByRole('button', { name: 'Edit' }).click();
    check(await page.getByLabel('Client secret (code flow)').inputValue() === '', 'a secret is never shown again');
    check(await page.getByLabel('Client secret (code flow)').getAttribute('placeholder') === 'Set — leave empty to keep', 'the editor says the secret is set');

    // Keys Parley generates: a key pair published as a JWKS, then rotated; a security key shown once.
    const generated = page.getByRole('group', { name: 'Keys Parley generates' });
    await generated.getByRole('button', { name: 'Generate a key pair' }).click();
    await generated.getByText('A new key pair is published.').waitFor();
    const jwksUrl = await generated.getByLabel('JWKS URL (public)').inputValue();
    const published = await (await fetch(jwksUrl)).json();
    check(published.keys.length === 1 && published.keys[0].use === 'enc' && !('d' in published.keys[0]), `the JWKS publishes one public key: ${JSON.stringify(published).slice(0, 200)}`);
    await generated.getByLabel(/previous value keeps working/).selectOption('168');
    await generated.getByRole('button', { name: 'Rotate the key pair' }).click();
    await generated.getByRole('list', { name: 'Encryption keys' }).getByText(/decrypts until/).waitFor();
    check((await (await fetch(jwksUrl)).json()).keys.length === 2, 'after a rotation both keys are published');
    await generated.getByRole('button', { name: 'Generate a security key' }).click();
    const shownKey = await generated.getByLabel(/New security key/).inputValue();
    check(shownKey.length >= 43, 'the generated security key is shown once');
    await axe(page, 'generated keys');
    await screenshot(page, 'admin-generated-keys');
    await page.getByRole('button', { name: 'Cancel' }).click();

    // Deployments: origins, settings, window mode and the snippet.
    await page.getByRole('link', { name: 'Deployments' }).click();
    const deployment = page.getByRole('form', { name: 'Deployment Demo Bank website' });
    await deployment.getByLabel('Allowed origins').fill('https://www.demo-bank.example\nhttp://127.0.0.1:8080');
    await deployment.getByRole('button', { name: 'Save' }).click();
    await deployment.getByText('Saved.').waitFor();
    check((await deployment.getByLabel('Snippet').inputValue()).includes(`data-deployment="${Implicit}"`), 'the snippet names the deployment');
    await axe(page, 'deployments');
    await screenshot(page, 'admin-deployments');

    // Routing, bot and agents pages load and pass axe.
    for (const [link, heading] of [['Queues & routing', 'Queues & routing'], ['Bot', 'Bot'], ['Agents', 'Agents'], ['Audit log', 'Audit log']]) {
      await page.getByRole('link', { name: link }).click();
      await page.getByRole('heading', { name: heading, exact: true }).waitFor();
      await page.waitForLoadState('networkidle');
      await axe(page, link);
    }
    await page.getByRole('link', { name: 'Bot' }).click();
    await page.getByRole('checkbox', { name: 'Statement copy requires login' }).waitFor();
    check(await page.getByRole('checkbox', { name: 'Statement copy requires login' }).isChecked(), 'the bot case that needs a login is marked');
  },
};

async function dump() {
  for (const context of browser.contexts()) {
    for (const page of context.pages()) {
      console.error(`--- ${page.url()}\n${await page.locator('body').innerText().catch((e) => String(e))}`);
    }
  }
}

await runScenario(scenarios, scenario, dump);
