// Numbers, money and times as people read them, in the browser's locale.
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const time = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });
const day = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" });
const count = new Intl.NumberFormat();
export function formatMoney(amount, currency) {
    const value = Number(amount);
    if (!Number.isFinite(value) || !/^[A-Z]{3}$/.test(currency))
        return `${amount} ${currency}`.trim();
    return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(value);
}
export function formatWhen(iso) {
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}
export function formatTime(iso) {
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? iso : time.format(date);
}
// A calendar day (YYYY-MM-DD), the same day wherever the browser is.
export function formatDay(isoDay) {
    const date = new Date(`${isoDay}T00:00:00Z`);
    return Number.isNaN(date.getTime()) ? isoDay : day.format(date);
}
export function formatCount(value) {
    return count.format(value);
}
export function plural(value, one, many) {
    return `${formatCount(value)} ${value === 1 ? one : many}`;
}
// How long something has waited, to the unit people care about: "40 s", "2 min", "3 h 5 min".
export function formatAge(seconds) {
    const whole = Math.max(0, Math.floor(seconds));
    if (whole < 60)
        return `${whole} s`;
    const minutes = Math.floor(whole / 60);
    if (minutes < 60)
        return `${minutes} min`;
    const hours = Math.floor(minutes / 60);
    if (hours < 24)
        return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
    const days = Math.floor(hours / 24);
    return `${days} d`;
}
