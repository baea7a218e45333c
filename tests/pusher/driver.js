// Drives unmodified pusher-js 8 and Laravel Echo 2 clients for tests/integration/test_pusher_clients.py.
// Commands arrive on stdin as JSON lines; everything the clients see leaves on stdout as JSON
// lines: connection states, socket ids, errors, subscriptions and every event with its data.
import readline from "node:readline";
import Pusher from "pusher-js";
import Echo from "laravel-echo";

const clients = new Map();
// Per client that keeps a cursor: the highest notification id it has seen (decision 0057).
const cursors = new Map();

function emit(record) {
  process.stdout.write(`${JSON.stringify(record)}\n`);
}

// What an app passes to pusher-js to reach Herald instead of Pusher's cloud.
function options(cmd) {
  const headers = cmd.token ? { Authorization: `Bearer ${cmd.token}` } : {};
  const result = {
    cluster: "mt1",
    wsHost: "127.0.0.1",
    wsPort: cmd.port,
    forceTLS: false,
    enabledTransports: ["ws"],
    disableStats: true,
    channelAuthorization: {
      endpoint: cmd.authEndpoint,
      transport: "ajax",
      headers,
      params: cmd.params || {},
    },
    userAuthentication: {
      endpoint: cmd.userAuthEndpoint || cmd.authEndpoint,
      transport: "ajax",
      headers,
    },
  };
  if (cmd.cursor) {
    // As an app that keeps its place: every channel authorization carries the last
    // notification id the client holds, so a reconnect replays exactly what it missed.
    result.channelAuthorization.paramsProvider = () =>
      cursors.has(cmd.client) ? { last_id: String(cursors.get(cmd.client)) } : {};
  }
  if (cmd.forgedUserAuth) {
    // An app backend that signs with the wrong secret: the server must refuse it (4009).
    result.userAuthentication = {
      customHandler: ({ socketId }, callback) =>
        callback(null, { auth: `${cmd.key}:${"0".repeat(64)}`, user_data: JSON.stringify({ id: "forged" }) }),
    };
  }
  return result;
}

function watch(name, pusher) {
  pusher.connection.bind("state_change", (states) =>
    emit({ client: name, type: "state", previous: states.previous, current: states.current }),
  );
  pusher.connection.bind("connected", () =>
    emit({ client: name, type: "connected", socket_id: pusher.connection.socket_id }),
  );
  pusher.connection.bind("error", (error) => emit({ client: name, type: "error", error }));
  pusher.bind_global((event, data) => {
    if (event.startsWith("pusher:")) return;
    emit({ client: name, type: "global", event, data });
  });
}

function bindChannel(name, channel) {
  channel.bind("pusher:subscription_succeeded", (data) =>
    emit({ client: name, type: "subscribed", channel: channel.name, data }),
  );
  channel.bind("pusher:subscription_error", (error) =>
    emit({ client: name, type: "subscription_error", channel: channel.name, status: error.status }),
  );
  channel.bind("pusher:member_added", (member) =>
    emit({ client: name, type: "member_added", channel: channel.name, id: member.id }),
  );
  channel.bind("pusher:member_removed", (member) =>
    emit({ client: name, type: "member_removed", channel: channel.name, id: member.id }),
  );
  channel.bind_global((event, data) => {
    if (event.startsWith("pusher:") || event.startsWith("pusher_internal:")) return;
    const id = data && /^\d+$/.test(String(data.id)) ? Number(data.id) : null;
    if (id !== null && id > (cursors.get(name) ?? 0)) cursors.set(name, id);
    emit({ client: name, type: "event", channel: channel.name, event, data });
  });
}

const commands = {
  connect(cmd) {
    const pusher = new Pusher(cmd.key, options(cmd));
    watch(cmd.client, pusher);
    clients.set(cmd.client, { pusher });
  },
  echo(cmd) {
    const opts = options(cmd);
    const echo = new Echo({
      broadcaster: "pusher",
      key: cmd.key,
      Pusher,
      cluster: opts.cluster,
      wsHost: opts.wsHost,
      wsPort: opts.wsPort,
      forceTLS: false,
      enabledTransports: ["ws"],
      disableStats: true,
      authEndpoint: cmd.authEndpoint,
      auth: { headers: opts.channelAuthorization.headers, params: cmd.params || {} },
    });
    watch(cmd.client, echo.connector.pusher);
    clients.set(cmd.client, { pusher: echo.connector.pusher, echo });
  },
  subscribe(cmd) {
    const { pusher } = clients.get(cmd.client);
    bindChannel(cmd.client, pusher.subscribe(cmd.channel));
  },
  echoPrivate(cmd) {
    // Echo names private-<name>; listen() takes the event name with a leading dot as is.
    const { echo } = clients.get(cmd.client);
    const channel = echo.private(cmd.name);
    channel.listen(`.${cmd.event}`, (data) =>
      emit({ client: cmd.client, type: "echo_event", channel: `private-${cmd.name}`, event: cmd.event, data }),
    );
    channel.subscribed(() => emit({ client: cmd.client, type: "subscribed", channel: `private-${cmd.name}` }));
    channel.error((error) =>
      emit({ client: cmd.client, type: "subscription_error", channel: `private-${cmd.name}`, status: error.status }),
    );
  },
  echoJoin(cmd) {
    const { echo } = clients.get(cmd.client);
    const channel = `presence-${cmd.name}`;
    echo
      .join(cmd.name)
      .here((members) => emit({ client: cmd.client, type: "here", channel, ids: members.map((m) => m.id) }))
      .joining((member) => emit({ client: cmd.client, type: "member_added", channel, id: member.id }))
      .leaving((member) => emit({ client: cmd.client, type: "member_removed", channel, id: member.id }));
  },
  goSilent(cmd) {
    // A half-dead network from here on: nothing the current connection sends reaches the
    // server (its pongs included). pusher-js itself is unchanged; its next connection is not
    // affected.
    clients.get(cmd.client).pusher.connection.connection.send = () => true;
  },
  unsubscribe(cmd) {
    clients.get(cmd.client).pusher.unsubscribe(cmd.channel);
  },
  signin(cmd) {
    // pusher-js emits no event on sign-in: it resolves user.signinDonePromise.
    const { pusher } = clients.get(cmd.client);
    pusher.signin();
    pusher.user.signinDonePromise.then(() => emit({ client: cmd.client, type: "signed_in" }));
  },
  disconnect(cmd) {
    const client = clients.get(cmd.client);
    client.pusher.disconnect();
    clients.delete(cmd.client);
    emit({ client: cmd.client, type: "disconnected" });
  },
  quit() {
    for (const { pusher } of clients.values()) pusher.disconnect();
    setTimeout(() => process.exit(0), 100);
  },
};

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const cmd = JSON.parse(line);
  try {
    commands[cmd.cmd](cmd);
    emit({ type: "ack", cmd: cmd.cmd, client: cmd.client });
  } catch (error) {
    emit({ type: "failed", cmd: cmd.cmd, client: cmd.client, error: String(error) });
  }
});
emit({ type: "ready" });
