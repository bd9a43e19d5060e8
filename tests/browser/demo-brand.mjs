// The demo brand's pages in a real browser (Debian's Chromium):
//   node demo-brand.mjs <parley base url>
// An anonymous visitor asks the bot for a statement copy, logs in through the popup, and the same
// conversation continues authenticated; then the account page starts an authenticated chat.
// Exits non-zero with the reason when a step fails, or when the page logs an error.
import { chromium } from 'playwright-core';

const base = process.argv[2];
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
const errors = [];
try {
  const page = await (await browser.newContext()).newPage();
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));

  await page.goto(`${base}/demo-brand`);
  await page.getByText('Connected.').waitFor({ timeout: 15000 });
  await page.getByText('Hi! I am the Demo Bank bot').waitFor();
  await page.getByLabel('Message').fill('Can I get a statement copy?');
  await page.keyboard.press('Enter');
  const popupOpened = page.waitForEvent('popup');
  await page.getByRole('button', { name: 'Log in' }).click();
  const popup = await popupOpened;
  await popup.getByLabel('Username').fill('ada');
  await popup.getByLabel('Password').fill('parley-demo');
  await popup.getByRole('button', { name: 'Log in' }).click();
  await page.getByText('You are now logged in; this conversation is authenticated.').waitFor({ timeout: 15000 });
  await page.getByText('Bot: Your statement copy is on its way').waitFor({ timeout: 15000 });
  if (!popup.isClosed()) await popup.waitForEvent('close', { timeout: 5000 }); // the callback page closes itself

  await page.goto(`${base}/demo-brand/account`);
  await page.getByText('Connected as a logged-in customer.').waitFor({ timeout: 15000 });
  if (errors.length > 0) throw new Error(`the page logged errors: ${errors.join(' | ')}`);
  console.log('ok');
} finally {
  await browser.close();
}
