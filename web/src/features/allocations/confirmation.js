// When the review allows sending: the admin ticked that they reviewed it and, for a large
// or everyone rule, typed the number of recipients.
// Digits alone, or groups of three split by one kind of separator as people write them
// ("2,000", "2.000", "2 000", "2'000"); anything else ("20.00", "2,00") is not a count.
const GROUPED = /^\d{1,3}([,.\s'’\u00a0\u202f])\d{3}(?:\1\d{3})*$/;
export function parseTypedCount(text) {
    const typed = text.trim();
    if (/^\d+$/.test(typed))
        return Number(typed);
    if (!GROUPED.test(typed))
        return null;
    return Number(typed.replace(/\D/g, ""));
}
export function needsTypedCount(preview) {
    return preview.confirmation === "typed";
}
export function canAllocate(preview, confirmation) {
    if (preview.matched <= 0 || !confirmation.reviewed)
        return false;
    if (!needsTypedCount(preview))
        return true;
    return parseTypedCount(confirmation.typed) === preview.matched;
}
