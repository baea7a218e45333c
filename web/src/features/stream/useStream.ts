// The one StreamClient a signed-in tab keeps (decision 0022), for as long as the workspace
// is shown, with its connection state. Features listen through the returned hub.

import { useEffect, useState } from "react";

import { type ConnectionState, StreamClient, type StreamOptions } from "./StreamClient";
import { type StreamConnection, StreamHub } from "./StreamHub";

export type CreateStreamClient = (options: StreamOptions) => StreamConnection;

const browserStream: CreateStreamClient = (options) => new StreamClient(options);

export interface Stream {
  connection: ConnectionState;
  // The same object for the whole session.
  stream: StreamHub;
}

// `renewCredentials`: what the client does before reconnecting a stream whose token expired.
export function useStream(
  createClient: CreateStreamClient = browserStream,
  renewCredentials?: () => Promise<void>,
): Stream {
  const [connection, setConnection] = useState<ConnectionState>("connecting");
  const [stream] = useState(() => new StreamHub());

  useEffect(() => {
    const client = createClient({
      ...stream.clientOptions,
      onState: setConnection,
      renewCredentials,
    });
    stream.attach(client);
    const online = () => client.retryNow();
    window.addEventListener("online", online);
    return () => {
      window.removeEventListener("online", online);
      stream.detach(client);
      client.stop();
    };
  }, [stream, createClient, renewCredentials]);

  return { connection, stream };
}
