// What every browser scenario needs: Debian's Chromium, console-error watching, axe-core, screenshots.
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const Password = 'parley-demo';
const axeSource = readFileSync(new URL('./node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');

export const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
export const errors = [];
/** Console errors a scenario expects (the browser reports refused connections while the server is down). */
export const expectedErrors = [];

/** With SCREENSHOTS=<folder>, scenarios save what they show (docs/images comes from here). */
export async function screenshot(page, name) {
  if (process.env.SCREENSHOTS) await page.screenshot({ path: `${process.env.SCREENSHOTS}/${name}.png` });
}

export function check(condition, message) {
  if (!condition) throw new Error(message);
}

export async function device(options = {}) {
  const context = await browser.newContext(options);
  context.on('page', watch);
  return context;
}

function watch(page) {
  page.on('console', (m) => {
    if (m.type() === 'error' && !expectedErrors.some((pattern) => pattern.test(m.text()))) errors.push(`${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`${page.url()}: ${e}`));
}

/** axe-core's WCAG 2.1 A/AA and best-practice rules: no serious or critical violation. */
export async function axe(page, label) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(bad.length === 0, `axe (${label}): ${bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('; ')}`);
  return result.passes.length;
}

/**
 * A WebSocket's incoming frames, kept until a step asks for them: `expect(match, what)` resolves
 * with the first frame (already received or still to come) that matches, or fails after `timeout`.
 */
export function inbox(socket, who) {
  const received = [];
  const waiting = [];
  socket.onmessage = (e) => {
    const frame = JSON.parse(e.data);
    const i = waiting.findIndex((w) => w.match(frame));
    if (i >= 0) waiting.splice(i, 1)[0].resolve(frame); else received.push(frame);
  };
  return (match, what, timeout = 15000) => {
    const i = received.findIndex(match);
    if (i >= 0) return Promise.resolve(received.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the ${who} did not receive ${what}`)), timeout);
      waiting.push({ match, resolve: (f) => { clearTimeout(timer); resolve(f); } });
    });
  };
}

/** Runs the named scenario; any page error fails it; `dump` prints what the pages showed on failure. */
export async function runScenario(scenarios, scenario, dump) {
  try {
    check(scenarios[scenario], `unknown scenario ${scenario}; known: ${Object.keys(scenarios).join(', ')}`);
    await scenarios[scenario]();
    if (errors.length > 0) throw new Error(`a page logged errors: ${errors.join(' | ')}`);
    console.log('ok');
  } catch (error) {
    await dump().catch(() => undefined);
    throw error;
  } finally {
    await browser.close();
  }
}
