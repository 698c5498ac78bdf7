// Opens the admin's live view in Debian's Chromium (headless, through playwright-core), waits
// until it has drawn the traffic, reads back what it shows, switches to "per authority", keeps
// a screenshot, and prints one JSON document for tests/tests/live_view.rs to assert on.
// Usage: node live_view.mjs <admin base URL> <screenshot path>
import { chromium } from 'playwright-core';

const [base, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  // No sandbox (tests may run as root); nothing that reaches beyond loopback.
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  timeout: 30000,
});
const found = { console: [], failed_requests: [] };
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('console', (m) => found.console.push({ type: m.type(), text: m.text() }));
  page.on('pageerror', (e) => found.console.push({ type: 'pageerror', text: String(e) }));
  page.on('requestfailed', (r) => found.failed_requests.push(r.url()));
  page.on('response', (r) => { if (r.status() >= 400) found.failed_requests.push(r.status() + ' ' + r.url()); });
  await page.goto(base + '/', { waitUntil: 'load' });
  found.url = page.url();
  found.title = await page.title();
  // Two updates: the page redraws over what it drew, not only once.
  await page.waitForFunction(() => (window.wasmeshLive.updates || 0) >= 2, null, { timeout: 15000 });
  const read = () => page.evaluate(() => {
    const rows = (selector, key) => [...document.querySelectorAll(selector + ' tbody tr')].map((tr) => ({
      key: tr.dataset[key] || null,
      class: tr.className,
      cells: [...tr.children].map((td) => td.textContent),
    }));
    const charts = {};
    for (const [id, plot] of Object.entries(window.wasmeshLive.charts)) {
      const canvas = document.querySelector('#' + id + ' canvas');
      charts[id] = {
        labels: plot.series.slice(1).map((s) => s.label),
        data: plot.data.map((values) => Array.from(values)),
        legend: [...document.querySelectorAll('#' + id + ' .u-legend .u-series th')].map((th) => th.textContent.trim()),
        canvas: canvas ? [canvas.width, canvas.height] : null,
      };
    }
    return {
      status: document.querySelector('#status').textContent,
      traffic: rows('#traffic-table', 'name'),
      endpoints: rows('#endpoints-table', 'address'),
      plugins: rows('#plugins-table', 'plugin'),
      reloads: rows('#reloads-table', 'generation'),
      charts,
    };
  });
  found.by_route = await read();
  await page.click('button[data-group="authorities"]');
  found.by_authority = await read();
  await page.click('button[data-group="routes"]');
  await page.screenshot({ path: screenshot, fullPage: true });
} catch (e) {
  found.error = String(e && e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(found));
