// The one StreamClient a signed-in tab keeps (decision 0022), for as long as the workspace
// is shown, with its connection state. Features listen through the returned hub.
import { useEffect, useState } from "react";
import { StreamClient } from "./StreamClient";
import { StreamHub } from "./StreamHub";
const browserStream = (options) => new StreamClient(options);
// `renewCredentials`: what the client does before reconnecting a stream whose token expired.
export function useStream(createClient = browserStream, renewCredentials) {
    const [connection, setConnection] = useState("connecting");
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
