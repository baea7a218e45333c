// Whether the page is being left (reload, navigation, tab closed).
//
// Leaving cuts off a request on its way, and the page sees that as a failed fetch. That is
// not an answer: the mark of the request must outlive the page so the next load sends it
// again, instead of being cleared like after a real failure.
let leaving = false;
if (typeof window !== "undefined") {
    // beforeunload comes before the navigation starts; Chromium may cut the request off
    // before pagehide (the browser tests saw it), so pagehide alone is too late.
    window.addEventListener("beforeunload", () => {
        leaving = true;
    });
    window.addEventListener("pagehide", () => {
        leaving = true;
    });
    // Back from the back-forward cache: the page lives on.
    window.addEventListener("pageshow", () => {
        leaving = false;
    });
}
export function pageIsLeaving() {
    return leaving;
}
