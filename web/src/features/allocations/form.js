// The new-allocation form as the admin fills it in, and the request it stands for.
export const GRADES = ["G1", "G2", "G3", "G4", "G5", "G6", "G7", "G8", "G9"];
export const CURRENCIES = ["EUR", "USD", "GBP", "CHF", "SEK", "NOK", "DKK", "PLN", "JPY", "CAD", "AUD"];
// Nothing is chosen for the admin: an empty audience reaches nobody, and a voucher that
// was filled in for them could go out unread.
export const EMPTY_FORM = {
    everyone: false,
    departments: [],
    grades: [],
    minYears: "",
    maxYears: "",
    name: "",
    amount: "",
    currency: "EUR",
    expiresOn: "",
    codePrefix: "",
};
export function audienceOf(form) {
    if (form.everyone)
        return "everyone";
    const filtered = form.departments.length > 0 ||
        form.grades.length > 0 ||
        form.minYears.trim() !== "" ||
        form.maxYears.trim() !== "";
    return filtered ? "filtered" : "none";
}
export const NO_AUDIENCE = "The rule must name an audience: tick departments, grades or years of experience, or Everyone.";
// Everyone stands alone: choosing it drops the filters, so what is shown is what is sent.
export function chooseEveryone(form, on) {
    return on
        ? { ...form, everyone: true, departments: [], grades: [], minYears: "", maxYears: "" }
        : { ...form, everyone: false };
}
// Sorted, so the same choice made in another order is the same request (and key).
export function criteriaOf(form) {
    if (form.everyone)
        return { all_employees: true };
    const criteria = {};
    if (form.departments.length > 0)
        criteria.departments = [...form.departments].sort();
    if (form.grades.length > 0)
        criteria.grades = [...form.grades].sort();
    if (form.minYears.trim() !== "")
        criteria.min_years_experience = Number(form.minYears);
    if (form.maxYears.trim() !== "")
        criteria.max_years_experience = Number(form.maxYears);
    return criteria;
}
export function voucherOf(form) {
    const amount = Number(form.amount);
    return {
        name: form.name.trim(),
        amount: form.amount.trim() !== "" && Number.isFinite(amount) ? amount.toFixed(2) : form.amount,
        currency: form.currency,
        expires_on: form.expiresOn,
        code_prefix: form.codePrefix.trim().toUpperCase(),
    };
}
export function toggle(list, value, on) {
    return on ? [...list.filter((v) => v !== value), value] : list.filter((v) => v !== value);
}
export function describeCriteria(criteria) {
    if (criteria.all_employees)
        return "Everyone";
    const parts = [];
    // Rules stored before an audience was required left departments out to mean all of them.
    parts.push(criteria.departments?.length ? criteria.departments.join(", ") : "All departments");
    if (criteria.grades?.length)
        parts.push(criteria.grades.join(" "));
    // Stored criteria name every field, with null for the ones not used.
    const low = criteria.min_years_experience ?? null;
    const high = criteria.max_years_experience ?? null;
    const years = (n) => (n === 1 ? "year" : "years");
    if (low !== null && high !== null)
        parts.push(`${low}–${high} ${years(high)}`);
    else if (low !== null)
        parts.push(`${low}+ years`);
    else if (high !== null)
        parts.push(`up to ${high} ${years(high)}`);
    return parts.join(" · ");
}
