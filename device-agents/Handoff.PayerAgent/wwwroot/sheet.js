// The payment sheet of a payer device. Offers arrive by push (Server-Sent Events from
// /api/sheet/events); the person approves with a PIN or the platform authenticator (WebAuthn), or
// declines, through the agent's JSON API.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const pending = new Map(); // paymentId -> offer on screen, as the agent sent it
  const endings = new Map(); // paymentId -> { state, offer, reason } once it left the screen
  let shown = null; // { kind: 'sheet' | 'result', paymentId } or null when idle
  let skewMs = 0; // the agent's clock minus this page's, so the countdown matches the deadline
  let busy = false;

  const money = (offer) => offer.amountText; // formatted by the agent, as on every other surface

  const announce = (text) => {
    $('announcer').textContent = text;
  };

  const secondsLeft = (offer) => Math.max(0, Math.ceil((Date.parse(offer.deadline) - (Date.now() + skewMs)) / 1000));

  // A guardian has hours to decide, a payer minutes: 23:59:58 or 1:58.
  const two = (value) => String(value).padStart(2, '0');
  const clock = (seconds) => seconds >= 3600
    ? `${Math.floor(seconds / 3600)}:${two(Math.floor(seconds / 60) % 60)}:${two(seconds % 60)}`
    : `${Math.floor(seconds / 60)}:${two(seconds % 60)}`;

  const oldestPending = () =>
    [...pending.values()].sort((a, b) => Date.parse(a.deadline) - Date.parse(b.deadline))[0];

  // What the result card says for each way a payment can leave the screen.
  const outcomes = {
    Completed: { outcome: 'paid', icon: '✓', title: 'Paid', detail: (o, reason) => reason ? `${capitalise(reason)}: ${money(o)} to ${o.merchant}. Nothing to do here.` : `${money(o)} paid to ${o.merchant}.` },
    Declined: { outcome: 'failed', icon: '✕', title: 'Declined', detail: (o, reason) => `${reason ? capitalise(reason) + '. ' : ''}Nothing was charged.` },
    Expired: { outcome: 'failed', icon: '⏱', title: 'Expired', detail: () => 'The request ran out of time. Nothing was charged.' },
    Cancelled: { outcome: 'failed', icon: '✕', title: 'Cancelled on the other device', detail: (o) => `${o.initiatorName} withdrew the request. Nothing was charged.` },
    Failed: { outcome: 'failed', icon: '!', title: 'Payment failed', detail: (o, reason) => reason ? `${capitalise(reason)}.` : 'The payment could not be made.' },
  };

  function capitalise(text) {
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  function render() {
    if (shown?.kind === 'sheet' && !pending.has(shown.paymentId)) {
      shown = endings.has(shown.paymentId) ? { kind: 'result', paymentId: shown.paymentId } : null;
    }

    if (!shown && pending.size > 0) {
      shown = { kind: 'sheet', paymentId: oldestPending().paymentId };
    }

    $('idle').hidden = shown !== null;
    $('sheet').hidden = shown?.kind !== 'sheet';
    $('result').hidden = shown?.kind !== 'result';
    if (shown?.kind === 'sheet') {
      renderSheet(pending.get(shown.paymentId));
      tick();
    } else if (shown?.kind === 'result') {
      renderResult(endings.get(shown.paymentId));
    }
  }

  function renderSheet(offer) {
    const sheet = $('sheet');
    if (sheet.dataset.paymentId !== offer.paymentId) {
      // A new request on screen: reset the form, and put the keyboard in the PIN field.
      sheet.dataset.paymentId = offer.paymentId;
      const total = money(offer);
      // A member's request: a guardian decides it here ("Bob asks for: …"), or the member pays it from their budget.
      const guardian = offer.rule?.needsGuardian === true;
      $('asked-by').textContent = guardian ? `${offer.askedBy.name} asks for:` : `${offer.initiatorName} asks you to pay`;
      $('merchant').textContent = offer.merchant;
      $('description').textContent = offer.description ?? '';
      $('rule').hidden = !offer.rule;
      $('rule').dataset.guardian = String(guardian);
      $('rule').textContent = !offer.rule ? ''
        : guardian ? `${capitalise(offer.rule.text)}. You decide as a guardian: approve to pay it yourself, or decline.`
        : `From ${offer.askedBy.name}'s budget: ${offer.rule.budgetLeftAfterText} left after this payment.`;
      $('total').textContent = total;
      $('match-code').textContent = offer.matchCode;
      $('pay').textContent = guardian ? `Approve and pay ${total}` : `Pay ${total}`;
      $('pin').value = '';
      $('pin-error').textContent = '';
      setBusy(false);
      loadPrograms(offer);
      $('pin').focus();
      announce(guardian
        ? `${offer.askedBy.name} asks for: ${offer.merchant}, ${total}. ${$('rule').textContent}`
        : `Payment request from ${offer.initiatorName}: ${total} to ${offer.merchant}. Enter your PIN to pay.`);
    }

    const others = pending.size - 1;
    $('queue').hidden = others === 0;
    $('queue').textContent = others === 1 ? '1 more request waiting' : `${others} more requests waiting`;
  }

  // The device's payment programs in the payment's currency, with what is left; the last used one is preselected.
  // A device without programs pays from its own account, and the picker stays hidden.
  async function loadPrograms(offer, keep) {
    let programs = [];
    try {
      const response = await fetch(`api/offers/${encodeURIComponent(offer.paymentId)}/programs`);
      programs = response.ok ? await response.json() : [];
    } catch {
      programs = [];
    }

    if ($('sheet').dataset.paymentId !== offer.paymentId) {
      return;
    }

    const list = $('program-list');
    const chosen = keep ?? (programs.find((program) => program.lastUsed) ?? programs[0])?.id;
    list.replaceChildren(...programs.map((program) => {
      const label = document.createElement('label');
      label.dataset.program = program.id;
      label.classList.toggle('short', program.left < offer.amount);
      const radio = document.createElement('input');
      radio.type = 'radio';
      radio.name = 'program';
      radio.value = program.id;
      radio.checked = program.id === chosen;
      const name = document.createElement('span');
      name.textContent = `${program.name} (${program.kind})`;
      const left = document.createElement('span');
      left.className = 'left';
      left.textContent = `${program.leftText} left`;
      label.append(radio, name, left);
      return label;
    }));
    $('programs').hidden = programs.length === 0;
  }

  const chosenProgram = () => document.querySelector('#program-list input[name="program"]:checked')?.value;

  function renderResult(ending) {
    const result = $('result');
    if (result.dataset.paymentId === ending.offer.paymentId && result.dataset.state === ending.state) {
      return;
    }

    const text = outcomes[ending.state] ?? { outcome: 'failed', icon: '?', title: ending.state, detail: () => '' };
    result.dataset.paymentId = ending.offer.paymentId;
    result.dataset.state = ending.state;
    result.dataset.outcome = text.outcome;
    $('result-icon').textContent = text.icon;
    $('result-title').textContent = text.title;
    $('result-detail').textContent = text.detail(ending.offer, ending.reason);
    $('sheet').dataset.paymentId = '';
    $('result-title').focus();
    announce(`${text.title}. ${$('result-detail').textContent}`);
  }

  // The payment left the screen: remember how, and show it if it was the one on screen.
  function end(paymentId, state, reason) {
    const offer = pending.get(paymentId) ?? endings.get(paymentId)?.offer;
    if (!offer) {
      return;
    }

    const previous = endings.get(paymentId);
    pending.delete(paymentId);
    // A local countdown's "Expired" gives way to what the agent reports; anything else the agent said stands.
    endings.set(paymentId, {
      state: previous && previous.state !== 'Expired' ? previous.state : state,
      offer,
      reason: reason ?? previous?.reason,
    });
    render();
  }

  function tick() {
    if (shown?.kind !== 'sheet') {
      return;
    }

    const offer = pending.get(shown.paymentId);
    const left = secondsLeft(offer);
    $('countdown').textContent = clock(left);
    $('countdown').parentElement.classList.toggle('soon', left <= 15);
    if (left === 0) {
      // The agent closes it too; until then nothing more can be done with it here.
      end(offer.paymentId, 'Expired');
    }
  }

  function setBusy(value) {
    busy = value;
    $('sheet').setAttribute('aria-busy', String(value));
    for (const button of document.querySelectorAll('#sheet button')) {
      button.disabled = value;
    }
  }

  // The agent's per-launch token, put into this page when it served it: every POST carries it (the agent refuses one without).
  const tokenHeader = () => ({ 'X-Handoff-Token': document.querySelector('meta[name="handoff-token"]')?.content ?? '' });

  async function post(path, body) {
    const response = await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...tokenHeader() },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, data };
  }

  // One answer of the agent to a PIN or a decline.
  function settle(paymentId, answer) {
    if (!answer.ok) {
      if (answer.status === 404) {
        end(paymentId, endings.get(paymentId)?.state ?? 'Expired');
        return;
      }

      if (answer.data.error?.code === 'insufficient_funds') {
        // Nothing was charged and the request is still open: the person can pick another program before the deadline.
        const program = $('program-list').querySelector(`[data-program="${CSS.escape(chosenProgram() ?? '')}"] span`)?.textContent ?? 'this program';
        $('pin-error').textContent = `Not enough left in ${program}. Choose another way to pay.`;
        $('pin').value = '';
        const offer = pending.get(paymentId);
        if (offer) {
          loadPrograms(offer, chosenProgram());
        }

        return;
      }

      $('pin-error').textContent = answer.data.error?.message ?? `The device could not do that (HTTP ${answer.status}).`;
      return;
    }

    const verification = answer.data;
    if (verification.outcome === 'locked') {
      const until = verification.lockedUntilText;
      $('pin-error').textContent = `Too many wrong PINs: payments on this device are locked until ${until}.`;
      $('pin').value = '';
      return;
    }

    if (verification.outcome === 'wrongPin') {
      wrongPin(paymentId, verification.triesLeft);
      $('pin').value = '';
      $('pin').focus();
      return;
    }

    const payment = verification.payment;
    end(paymentId, payment?.state ?? 'Expired', payment?.failureReason);
  }

  function wrongPin(paymentId, triesLeft) {
    if (shown?.kind !== 'sheet' || shown.paymentId !== paymentId) {
      return;
    }

    // Both the agent's answer and the pushed event report it: set the alert once.
    const message = `Wrong PIN. ${triesLeft} ${triesLeft === 1 ? 'try' : 'tries'} left.`;
    if ($('pin-error').textContent !== message) {
      $('pin-error').textContent = message;
    }
  }

  async function approve(event) {
    event.preventDefault();
    const pin = $('pin').value.trim();
    if (busy || shown?.kind !== 'sheet') {
      return;
    }

    if (!/^[0-9]{4,12}$/.test(pin)) {
      $('pin-error').textContent = 'Enter your PIN: 4 to 12 digits.';
      $('pin').focus();
      return;
    }

    const paymentId = shown.paymentId;
    $('pin-error').textContent = '';
    setBusy(true);
    try {
      settle(paymentId, await post(`api/offers/${encodeURIComponent(paymentId)}/approve`, { pin, program: chosenProgram() }));
    } catch {
      $('pin-error').textContent = 'Could not reach the payment program on this device. Try again.';
    } finally {
      setBusy(false);
    }
  }

  // WebAuthn's binary fields travel as base64url text between the agent and this page.
  function fromBase64Url(text) {
    const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(base64 + '==='.slice((base64.length + 3) % 4));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  }

  function toBase64Url(buffer) {
    let binary = '';
    for (const byte of new Uint8Array(buffer)) {
      binary += String.fromCharCode(byte);
    }

    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  // A PublicKeyCredential in the WebAuthn JSON shape, as the agent reads it.
  function credentialJson(credential) {
    const response = {};
    for (const field of ['clientDataJSON', 'attestationObject', 'authenticatorData', 'signature', 'userHandle']) {
      if (credential.response[field]) {
        response[field] = toBase64Url(credential.response[field]);
      }
    }

    return { id: credential.id, rawId: toBase64Url(credential.rawId), type: credential.type, response };
  }

  // What a refused or failed authenticator prompt means to the person.
  function ceremonyProblem(error) {
    if (error?.name === 'NotAllowedError') {
      return 'The fingerprint was not confirmed. Nothing was charged.';
    }

    if (error?.name === 'SecurityError') {
      return `The fingerprint works only on ${webauthn?.origin ?? 'http://localhost'}: open this page there.`;
    }

    return `The fingerprint could not be used (${error?.message ?? error}).`;
  }

  // The platform authenticator signs this very transaction: its challenge is the hash of the statement
  // the device key signs (payment, parties, amount, merchant, nonce), which the agent computes; the
  // authority checks the assertion against the credential registered for this device.
  async function biometric() {
    if (busy || shown?.kind !== 'sheet') {
      return;
    }

    const paymentId = shown.paymentId;
    const path = `api/offers/${encodeURIComponent(paymentId)}`;
    $('pin-error').textContent = '';
    setBusy(true);
    try {
      const options = await post(`${path}/webauthn-options`, { program: chosenProgram() });
      if (!options.ok) {
        settle(paymentId, options);
        return;
      }

      let credential;
      try {
        credential = await navigator.credentials.get({
          publicKey: {
            challenge: fromBase64Url(options.data.challenge),
            rpId: options.data.rpId,
            allowCredentials: options.data.allowCredentials.map((allowed) => ({ ...allowed, id: fromBase64Url(allowed.id) })),
            userVerification: options.data.userVerification,
            timeout: options.data.timeout,
          },
        });
      } catch (error) {
        $('pin-error').textContent = ceremonyProblem(error);
        return;
      }

      settle(paymentId, await post(`${path}/approve-webauthn`, { ...credentialJson(credential), program: options.data.program }));
    } catch {
      $('pin-error').textContent = 'Could not reach the payment program on this device. Try again.';
    } finally {
      setBusy(false);
    }
  }

  // What the agent says about its devices' platform credentials, and the origin they are made for.
  let webauthn = null;

  async function loadSetup() {
    try {
      const response = await fetch('api/webauthn');
      webauthn = response.ok ? await response.json() : null;
    } catch {
      webauthn = null;
    }

    renderSetup();
  }

  function renderSetup(message) {
    const setup = $('setup');
    setup.hidden = webauthn === null;
    if (webauthn === null) {
      return;
    }

    const here = location.origin === webauthn.origin;
    $('setup-status').textContent = message
      ?? (here ? 'Set up once per device: then the fingerprint pays without the PIN.' : `The fingerprint works only on ${webauthn.origin}.`);
    const list = $('setup-devices');
    list.replaceChildren(...webauthn.devices.map((device) => {
      const item = document.createElement('li');
      item.dataset.device = device.id;
      const name = document.createElement('span');
      name.textContent = device.displayName;
      item.append(name);
      if (device.registered) {
        const ready = document.createElement('span');
        ready.className = 'ready';
        ready.textContent = 'set up';
        item.append(ready);
      }

      if (here) {
        // Setting up again (a new phone, a reset authenticator) replaces the credential the household keeps.
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'secondary';
        button.textContent = device.registered ? 'Set up again' : 'Set up fingerprint';
        button.setAttribute('aria-label', `Set up fingerprint for ${device.displayName}`);
        button.addEventListener('click', () => register(device));
        item.append(button);
      } else if (!device.registered) {
        const link = document.createElement('a');
        link.href = webauthn.origin + location.pathname;
        link.textContent = 'open there to set up';
        item.append(link);
      }

      return item;
    }));
  }

  // Registers a platform credential for one device: the hub makes the options and checks the attestation.
  async function register(device) {
    try {
      const options = await post('api/webauthn/register/options', { device: device.id });
      if (!options.ok) {
        renderSetup(options.data.error?.message ?? `Could not start (HTTP ${options.status}).`);
        return;
      }

      const publicKey = {
        ...options.data,
        challenge: fromBase64Url(options.data.challenge),
        user: { ...options.data.user, id: fromBase64Url(options.data.user.id) },
        excludeCredentials: (options.data.excludeCredentials ?? []).map((excluded) => ({ ...excluded, id: fromBase64Url(excluded.id) })),
      };
      let credential;
      try {
        credential = await navigator.credentials.create({ publicKey });
      } catch (error) {
        renderSetup(ceremonyProblem(error));
        return;
      }

      const registered = await post('api/webauthn/register', { device: device.id, ...credentialJson(credential) });
      if (!registered.ok) {
        renderSetup(registered.data.error?.message ?? `Could not set it up (HTTP ${registered.status}).`);
        return;
      }

      await loadSetup();
      renderSetup(`Fingerprint set up for ${device.displayName}.`);
    } catch {
      renderSetup('Could not reach the payment program on this device. Try again.');
    }
  }

  async function decline() {
    if (busy || shown?.kind !== 'sheet') {
      return;
    }

    const paymentId = shown.paymentId;
    setBusy(true);
    try {
      settle(paymentId, await post(`api/offers/${encodeURIComponent(paymentId)}/decline`));
    } catch {
      $('pin-error').textContent = 'Could not reach the payment program on this device. Try again.';
    } finally {
      setBusy(false);
    }
  }

  function press(button) {
    const pin = $('pin');
    if (button.dataset.digit !== undefined && pin.value.length < 12) {
      pin.value += button.dataset.digit;
    } else if (button.dataset.key === 'back') {
      pin.value = pin.value.slice(0, -1);
    } else if (button.dataset.key === 'clear') {
      pin.value = '';
    }
  }

  function listen() {
    const connection = $('connection');
    const source = new EventSource('api/sheet/events');
    const read = (handler) => (message) => {
      const data = JSON.parse(message.data);
      skewMs = Date.parse(data.now) - Date.now();
      handler(data);
    };

    source.addEventListener('open', () => {
      connection.dataset.state = 'live';
      connection.textContent = 'connected';
    });
    source.addEventListener('error', () => {
      connection.dataset.state = 'lost';
      connection.textContent = 'reconnecting…';
    });
    source.addEventListener('hello', read((hello) => {
      const names = hello.devices.map((device) => device.displayName).join(', ');
      $('device-name').textContent = names;
      // Whose each device is, as the household says.
      const owners = [...new Set(hello.devices.map((device) => device.owner).filter((owner) => owner))];
      $('device-owner').textContent = owners.length > 0 ? `${owners.join(', ')}'s` : '';
      document.title = `Payment sheet · ${names}`;

      // A (re)connection starts with what is on screen now: forget offers that closed while the page was away.
      pending.clear();
      render();
    }));
    source.addEventListener('shown', read((shownEvent) => {
      if (!endings.has(shownEvent.paymentId) && !pending.has(shownEvent.paymentId)) {
        pending.set(shownEvent.paymentId, shownEvent.offer);
        if (shown?.kind === 'result') {
          shown = null; // a new request takes the place of the last outcome
        }

        render();
      }
    }));
    source.addEventListener('wrong-pin', read((wrong) => wrongPin(wrong.paymentId, wrong.triesLeft)));
    // Money of a payment this device paid came back: the authority's figures, shown above the sheet.
    source.addEventListener('refunded', read((refunded) => {
      const notice = $('refund-notice');
      notice.textContent = `Refunded: ${refunded.reason}.`;
      notice.hidden = false;
      announce(notice.textContent);
    }));
    source.addEventListener('closed', read((closed) => {
      if (closed.offer && !pending.has(closed.paymentId) && !endings.has(closed.paymentId)) {
        pending.set(closed.paymentId, closed.offer);
      }

      end(closed.paymentId, closed.state, closed.reason);
    }));
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('pin-form').addEventListener('submit', approve);
    $('decline').addEventListener('click', decline);
    $('biometric').addEventListener('click', biometric);
    $('done').addEventListener('click', () => {
      shown = null;
      $('result').dataset.paymentId = '';
      render();
    });
    $('pin').addEventListener('input', () => {
      $('pin').value = $('pin').value.replace(/[^0-9]/g, '');
    });
    for (const button of document.querySelectorAll('.pad button')) {
      button.addEventListener('click', () => press(button));
    }

    setInterval(tick, 250);
    render();
    listen();
    loadSetup();
  });
})();
