-- A stream opened with a ticket lives as long as the token the ticket was issued for
-- (docs/decisions/0008): the ticket keeps that token's `exp`. NULL for tickets issued
-- before this column; they are good for their own 30 seconds at most.
ALTER TABLE stream_tickets ADD COLUMN token_expires_at timestamptz;
