// The one stream of a signed-in tab, shared by the features that listen to it.
//
// Each feature says which channel it needs, if any, and what it does with the frames; the
// hub keeps one StreamClient open on all those channels and hands every frame to every
// listener. The inbox opens it (`start`) once its first page is loaded, so the replay
// begins after the newest item the page already has (decision 0022).
export class StreamHub {
    listeners = new Set();
    client = null;
    channelsQueued = false;
    // The callbacks for the StreamClient this hub drives.
    clientOptions = {
        onEvent: (event) => {
            for (const listener of [...this.listeners])
                listener.onEvent?.(event);
        },
        onReset: () => {
            for (const listener of [...this.listeners])
                listener.onReset?.();
        },
        onCaughtUp: () => {
            for (const listener of [...this.listeners])
                listener.onCaughtUp?.();
        },
    };
    get channels() {
        const wanted = new Set();
        for (const listener of this.listeners)
            if (listener.channel)
                wanted.add(listener.channel);
        return [...wanted].sort();
    }
    // Returns what removes the listener again, so it can be an effect's cleanup.
    listen(listener) {
        this.listeners.add(listener);
        this.channelsChanged();
        return () => {
            this.listeners.delete(listener);
            this.channelsChanged();
        };
    }
    attach(client) {
        this.client = client;
    }
    detach(client) {
        if (this.client === client)
            this.client = null;
    }
    // Opens the stream, replaying everything after `lastEventId`.
    start(lastEventId) {
        this.client?.start(lastEventId, this.channels);
    }
    // An id loaded over REST: not shown twice when the stream replays it.
    remember(id) {
        this.client?.remember(id);
    }
    // A listener's effect cleanup and its next run come one right after the other (a new
    // allocation watched): the channels are applied once both are done, so the stream
    // reopens once, not twice.
    channelsChanged() {
        if (this.channelsQueued)
            return;
        this.channelsQueued = true;
        queueMicrotask(() => {
            this.channelsQueued = false;
            this.client?.setChannels(this.channels);
        });
    }
}
