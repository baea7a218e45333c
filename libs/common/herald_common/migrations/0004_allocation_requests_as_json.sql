-- Voucher names are free text and may carry any Unicode, U+0000 included, which `jsonb`
-- cannot store; `json` keeps the request exactly as it was accepted.
ALTER TABLE allocations ALTER COLUMN voucher TYPE json USING voucher::json;
ALTER TABLE allocations ALTER COLUMN criteria TYPE json USING criteria::json;
