// A small shop on an initiator device (a TV): pick items, choose a payer device of the household,
// hand the payment off through this agent's API, and follow it by push (Server-Sent Events).
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const merchant = 'Tea House';
  const currency = 'CNY';
  const catalogue = [
    { id: 'jasmine', name: 'Jasmine green tea', note: 'Loose leaf, 50 g', priceMinor: 2800, color: '#cfe3b4' },
    { id: 'oolong', name: 'Tieguanyin oolong', note: 'Loose leaf, 50 g', priceMinor: 3650, color: '#e8d59b' },
    { id: 'mooncakes', name: 'Mooncake gift box', note: 'Four lotus-seed mooncakes', priceMinor: 8800, color: '#e9b98f' },
    { id: 'teapot', name: 'Celadon teapot', note: 'Hand-glazed, 300 ml', priceMinor: 12000, color: '#a9cfc4' },
  ];

  const cart = new Map(); // item id -> quantity
  let payers = [];
  let selectedPayer = null;
  let checkout = null; // { paymentId, payer, lines, totalMinor, source, last }
  let thisDevice = null;

  // Amounts and times are formatted by the agent, as on every other surface: the page shows the texts it is given.
  const amountTexts = new Map(); // minor units -> the agent's text
  const money = (minor) => amountTexts.get(minor) ?? '…';
  async function loadAmounts(minors) {
    const missing = [...new Set(minors)].filter((minor) => !amountTexts.has(minor));
    if (missing.length > 0) {
      const texts = await (await fetch(`api/amounts?currency=${currency}&${missing.map((minor) => `minor=${minor}`).join('&')}`)).json();
      missing.forEach((minor, index) => amountTexts.set(minor, texts[index]));
    }
  }
  const capitalise = (text) => text.charAt(0).toUpperCase() + text.slice(1);
  // 'any' asks every payer device online at once: the first to approve pays.
  const payerName = (id) => id === 'any' ? 'any of your devices' : payers.find((payer) => payer.id === id)?.displayName ?? id;
  const totalMinor = () => [...cart].reduce((sum, [id, quantity]) => sum + item(id).priceMinor * quantity, 0);

  // The agent's per-launch token, put into this page when it served it: every POST carries it (the agent refuses one without).
  const tokenHeader = () => ({ 'X-Handoff-Token': document.querySelector('meta[name="handoff-token"]')?.content ?? '' });

  function item(id) {
    return catalogue.find((entry) => entry.id === id);
  }

  function element(tag, properties = {}, children = []) {
    const node = Object.assign(document.createElement(tag), properties);
    node.append(...children);
    return node;
  }

  function renderMenu() {
    $('items').replaceChildren(...catalogue.map((entry) => element('li', { className: 'item' }, [
      element('div', { className: 'swatch', style: `background:${entry.color}` }),
      element('h3', { textContent: entry.name }),
      element('p', { textContent: entry.note }),
      element('p', { className: 'price', textContent: money(entry.priceMinor) }),
      element('button', {
        type: 'button',
        textContent: 'Add to order',
        ariaLabel: `Add ${entry.name} to order`,
        onclick: () => changeQuantity(entry.id, 1),
      }),
    ])));
  }

  function changeQuantity(id, delta) {
    const quantity = (cart.get(id) ?? 0) + delta;
    if (quantity > 0) {
      cart.set(id, quantity);
    } else {
      cart.delete(id);
    }

    $('order-error').textContent = '';
    renderOrder();
  }

  function renderOrder() {
    loadAmounts([...[...cart].map(([id, quantity]) => item(id).priceMinor * quantity), totalMinor()]).then(drawOrder, drawOrder);
  }

  function drawOrder() {
    $('cart').replaceChildren(...[...cart].map(([id, quantity]) => {
      const entry = item(id);
      return element('li', {}, [
        element('span', { className: 'name', textContent: entry.name }),
        element('button', { type: 'button', textContent: '−', ariaLabel: `One less ${entry.name}`, onclick: () => changeQuantity(id, -1) }),
        element('span', { className: 'qty', textContent: String(quantity), ariaLabel: `Quantity ${quantity}` }),
        element('button', { type: 'button', textContent: '+', ariaLabel: `One more ${entry.name}`, onclick: () => changeQuantity(id, 1) }),
        element('span', { className: 'line-total', textContent: money(entry.priceMinor * quantity) }),
      ]);
    }));
    $('cart-empty').hidden = cart.size > 0;
    $('total').textContent = money(totalMinor());
    renderPay();
  }

  function available(payer) {
    return payer.online && payer.capabilities.canPay;
  }

  function renderPayers() {
    const usableCount = payers.filter(available).length;
    if (!(selectedPayer === 'any' && usableCount > 1) && !payers.some((payer) => payer.id === selectedPayer && available(payer))) {
      selectedPayer = payers.find(available)?.id ?? null;
    }

    const list = $('payer-list');
    if (payers.length === 0) {
      list.replaceChildren(element('p', { className: 'muted', textContent: 'No payer devices in this household yet.' }));
    } else {
      list.replaceChildren(...payers.map((payer) => {
        const usable = available(payer);
        const status = !payer.capabilities.canPay ? 'cannot pay' : payer.online ? 'online' : 'offline';
        return element('label', { className: `payer${usable ? '' : ' unavailable'}` }, [
          element('input', {
            type: 'radio',
            name: 'payer',
            value: payer.id,
            checked: payer.id === selectedPayer,
            disabled: !usable,
            onchange: () => {
              selectedPayer = payer.id;
              renderPay();
            },
          }),
          element('span', { className: 'name', textContent: `${payer.displayName} (${payer.kind})` }),
          ...(payer.owner ? [element('span', { className: 'owner', textContent: payer.owner })] : []),
          element('span', { className: `badge ${status.replace(' ', '-')}`, textContent: status }),
        ]);
      }));
      if (usableCount > 1) {
        list.prepend(element('label', { className: 'payer any' }, [
          element('input', {
            type: 'radio',
            name: 'payer',
            value: 'any',
            checked: selectedPayer === 'any',
            onchange: () => {
              selectedPayer = 'any';
              renderPay();
            },
          }),
          element('span', { className: 'name', textContent: `Any of my devices (${usableCount} online)` }),
          element('span', { className: 'badge online', textContent: 'first to approve pays' }),
        ]));
      }
    }

    renderPay();
  }

  function renderPay() {
    const pay = $('pay');
    pay.textContent = selectedPayer ? `Pay on ${payerName(selectedPayer)}` : 'No payer device available';
    pay.disabled = cart.size === 0 || selectedPayer === null;
  }

  async function loadPayers() {
    try {
      const response = await fetch('api/payers');
      const data = await response.json();
      if (!response.ok) {
        throw new Error(data.error?.message ?? `HTTP ${response.status}`);
      }

      payers = data;
    } catch (failure) {
      $('order-error').textContent = `Could not list the household's devices: ${failure.message}`;
    }

    renderPayers();
  }

  async function pay() {
    if (cart.size === 0 || !selectedPayer) {
      return;
    }

    const lines = [...cart].map(([id, quantity]) => ({ name: item(id).name, quantity, minor: item(id).priceMinor * quantity }));
    const description = lines.map((line) => `${line.quantity} × ${line.name}`).join(', ').slice(0, 200);
    const orderKey = `web-${crypto.randomUUID ? crypto.randomUUID() : Date.now() + '-' + Math.random()}`;
    const payer = selectedPayer;
    $('pay').disabled = true;
    $('order-error').textContent = '';
    try {
      const response = await fetch('api/payments', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...tokenHeader() },
        body: JSON.stringify({ payer, amount: totalMinor() / 100, currency, merchant, description, orderKey }),
      });
      const data = await response.json();
      if (!response.ok) {
        refused(payer, data.error ?? { code: 'failed', message: `HTTP ${response.status}` });
        return;
      }

      follow({ paymentId: data.paymentId, payer, lines, totalMinor: totalMinor(), last: null }, data);
    } catch (failure) {
      $('order-error').textContent = `Could not reach this device's agent: ${failure.message}`;
      renderPay();
    }
  }

  // The handoff was refused before it started: say why, and show the devices as they now are.
  function refused(payer, error) {
    const name = payerName(payer);
    const messages = {
      payer_offline: `${name} is offline: no running payer agent has it. Choose another device, or try again when it is back.`,
      not_capable: `${name} cannot pay.`,
      not_found: `${name} is not a device of this household.`,
    };
    $('order-error').textContent = messages[error.code] ?? capitalise(error.message);
    loadPayers();
  }

  // While a payment is in flight the menu waits: the order it pays for is fixed.
  function setMenuEnabled(enabled) {
    for (const button of $('items').querySelectorAll('button')) {
      button.disabled = !enabled;
    }
  }

  function follow(started, first) {
    checkout = started;
    setMenuEnabled(false);
    $('order').hidden = true;
    $('receipt').hidden = true;
    $('progress').hidden = false;
    $('failure').hidden = true;
    $('back').hidden = true;
    $('cancel').hidden = false;
    $('cancel').disabled = false;
    $('progress-title').textContent = `Paying ${first.amountText} on ${payerName(started.payer)}`;
    $('match-code').textContent = first.matchCode;
    $('progress').querySelector('li[data-step="shown"] .what').textContent = `Shown on ${payerName(started.payer)}`;
    for (const step of $('progress').querySelectorAll('li')) {
      step.dataset.done = 'false';
      step.dataset.failed = 'false';
      step.querySelector('.when').textContent = '';
    }

    update(first);
    const source = new EventSource(`api/payments/${encodeURIComponent(started.paymentId)}/events`);
    started.source = source;
    source.addEventListener('payment', (message) => {
      if (checkout === started) {
        update(JSON.parse(message.data));
      }
    });
    source.addEventListener('failure', (message) => {
      source.close();
      const error = JSON.parse(message.data).error;
      if (checkout === started && !checkout.last?.terminal) {
        fail('Lost track of the payment', capitalise(error.message));
      }
    });
  }

  const steps = { Offered: 'sent', Displayed: 'shown', Authorized: 'verified', Completed: 'paid' };

  function update(view) {
    if (checkout.last && view.history.length < checkout.last.history.length) {
      return; // an older state, replayed after a reconnect
    }

    checkout.last = view;
    const name = view.payer ? payerName(view.payer) : payerName(checkout.payer);
    for (const transition of view.history) {
      const step = steps[transition.to];
      if (step) {
        const row = $('progress').querySelector(`li[data-step="${step}"]`);
        row.dataset.done = 'true';
        row.querySelector('.when').textContent = transition.atText;
      }
    }

    const statuses = {
      Created: `Sending to ${name}…`,
      Offered: `Sent to ${name}. Waiting for it to show the payment…`,
      Displayed: `Shown on ${name}. Waiting for the PIN there…`,
      Authorized: `Verified on ${name}. Charging…`,
      Charging: `Verified on ${name}. Charging…`,
      Completed: 'Paid.',
    };
    // A member's request over a rule waits for the household's guardians, for longer; within budget it says what is left.
    const guardians = view.rule?.guardians.map((guardian) => guardian.name).join(' or ');
    $('progress-status').textContent = view.awaitsGuardian
      ? `Waiting for a guardian: ${guardians} (${view.rule.text}).`
      : `${statuses[view.state] ?? ''}${view.rule && !view.rule.needsGuardian && !view.terminal ? ` ${capitalise(view.rule.text)}.` : ''}`;
    if (view.rule?.needsGuardian) {
      $('progress-title').textContent = `Asking ${guardians} for ${view.amountText}`;
      $('progress').querySelector('li[data-step="shown"] .what').textContent = `Shown to ${guardians}`;
    }

    // Which states end a payment, or still let it be cancelled, is the agent's to say (its state table).
    $('cancel').disabled = !view.cancellable;
    if (!view.terminal) {
      return;
    }

    checkout.source?.close();
    setMenuEnabled(true);
    if (view.state === 'Completed') {
      showReceipt(view);
      return;
    }

    const last = view.history[view.history.length - 1];
    const reason = view.failureReason ? `${capitalise(view.failureReason)}. ` : '';
    const endings = {
      Declined: [view.rule?.needsGuardian ? 'Declined by a guardian' : `Declined on ${name}`, `${reason}Nothing was charged.`],
      Expired: ['Expired', `Nobody verified the payment on ${name} in time. Nothing was charged.`],
      Cancelled: last.device === thisDevice?.id
        ? ['Cancelled', 'You cancelled the payment. Nothing was charged.']
        : [`Cancelled on ${payerName(last.device)}`, 'Nothing was charged.'],
      Failed: ['Payment failed', `${reason}Nothing was charged.`],
    };
    const [title, detail] = endings[view.state];
    const next = $('progress').querySelector('li[data-done="false"]');
    if (next) {
      next.dataset.failed = 'true';
    }

    fail(title, detail);
  }

  function fail(title, detail) {
    setMenuEnabled(true);
    $('progress-status').textContent = '';
    $('progress-countdown').textContent = '';
    $('failure-title').textContent = title;
    $('failure-detail').textContent = detail;
    $('failure').hidden = false;
    $('cancel').hidden = true;
    $('back').hidden = false;
    $('back').focus();
  }

  async function cancel() {
    if (!checkout) {
      return;
    }

    $('cancel').disabled = true;
    try {
      const response = await fetch(`api/payments/${encodeURIComponent(checkout.paymentId)}/cancel`, { method: 'POST', headers: tokenHeader() });
      const data = await response.json();
      if (response.ok) {
        update(data);
      } else {
        $('progress-status').textContent = `Could not cancel: ${data.error?.message ?? `HTTP ${response.status}`}`;
      }
    } catch (failure) {
      $('progress-status').textContent = `Could not cancel: ${failure.message}`;
      $('cancel').disabled = false;
    }
  }

  function showReceipt(view) {
    $('progress').hidden = true;
    $('receipt').hidden = false;
    $('receipt-lines').replaceChildren(...checkout.lines.map((line) => element('li', {}, [
      element('span', { className: 'name', textContent: `${line.quantity} × ${line.name}` }),
      element('span', { className: 'line-total', textContent: money(line.minor) }),
    ])));
    $('receipt-total').textContent = view.amountText;
    $('receipt-payer').textContent = payerName(view.payer ?? checkout.payer);
    $('receipt-approved-label').hidden = !view.approvedBy;
    $('receipt-approved').hidden = !view.approvedBy;
    $('receipt-approved').textContent = view.approvedBy?.name ?? '';
    $('receipt-time').textContent = view.history[view.history.length - 1].atText;
    $('receipt-id').textContent = view.paymentId;
    showRefunds(view);
    $('refund-status').textContent = '';
    $('receipt-title').focus();
    cart.clear();
  }

  // What went back to the payer so far; the button offers the rest (the payment's state table says whether it may).
  function showRefunds(view) {
    const refunded = view.refunded > 0;
    $('receipt-refunded-label').hidden = !refunded;
    $('receipt-refunded').hidden = !refunded;
    $('receipt-refunded').textContent = refunded ? `${view.refundedText} of ${view.amountText}` : '';
    $('refund').hidden = !view.refundable || view.refunded >= view.amount;
  }

  async function refund() {
    const paymentId = checkout?.paymentId;
    if (!paymentId) {
      return;
    }

    $('refund').disabled = true;
    try {
      // One key per order: pressing again (or a retry after a lost answer) is the same refund, never a second one.
      const response = await fetch(`api/payments/${encodeURIComponent(paymentId)}/refund`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...tokenHeader() },
        body: JSON.stringify({ key: `full-${paymentId}` }),
      });
      const data = await response.json();
      if (response.ok) {
        showRefunds(data);
        $('refund-status').textContent = `Refunded ${data.refundedText} to ${payerName(data.payer)}.`;
      } else {
        $('refund-status').textContent = `Could not refund: ${data.error?.message ?? `HTTP ${response.status}`}`;
      }
    } catch (failure) {
      $('refund-status').textContent = `Could not refund: ${failure.message}`;
    } finally {
      $('refund').disabled = false;
    }
  }

  function backToOrder() {
    checkout?.source?.close();
    checkout = null;
    $('progress').hidden = true;
    $('receipt').hidden = true;
    $('order').hidden = false;
    renderOrder();
    loadPayers();
    $('pay').focus();
  }

  function tick() {
    const view = checkout?.last;
    // The deadline counts only while the payment waits for the person (the states it can be cancelled in).
    if (!view?.cancellable) {
      $('progress-countdown').textContent = '';
      return;
    }

    const left = Math.max(0, Math.ceil((Date.parse(view.deadline) - Date.now()) / 1000));
    const two = (value) => String(value).padStart(2, '0');
    $('progress-countdown').textContent = left >= 3600
      ? `Expires in ${Math.floor(left / 3600)}:${two(Math.floor(left / 60) % 60)}:${two(left % 60)}`
      : `Expires in ${Math.floor(left / 60)}:${two(left % 60)}`;
  }

  document.addEventListener('DOMContentLoaded', async () => {
    $('pay').addEventListener('click', pay);
    $('cancel').addEventListener('click', cancel);
    $('back').addEventListener('click', backToOrder);
    $('new-order').addEventListener('click', backToOrder);
    $('refund').addEventListener('click', refund);
    $('refresh-payers').addEventListener('click', loadPayers);
    window.addEventListener('focus', () => {
      if (!checkout) {
        loadPayers();
      }
    });
    setInterval(tick, 500);
    await loadAmounts(catalogue.map((entry) => entry.priceMinor)).catch(() => {});
    renderMenu();
    renderOrder();
    try {
      thisDevice = await (await fetch('api/device')).json();
      $('device-name').textContent = `on ${thisDevice.displayName}`;
      document.title = `Tea House · ${thisDevice.displayName}`;
    } catch {
      // The shop works without the device's name.
    }

    await loadPayers();
  });
})();
