-- Allocations are written and published in chunks (docs/decisions/0068): the row keeps
-- where the write stands, so a worker that dies between chunks (or inside one) resumes at
-- the next chunk on redelivery, with the same recipients and the same chunk boundaries.
ALTER TABLE allocations
    -- Employees created after this moment are never recipients of the allocation.
    ADD COLUMN recipients_as_of  timestamptz,
    -- Employees per chunk, fixed when the first chunk is written (a changed setting
    -- applies to later allocations only).
    ADD COLUMN chunk_size        integer CHECK (chunk_size > 0),
    -- Chunks expected, from the recipients counted when the write began.
    ADD COLUMN chunks_total      integer NOT NULL DEFAULT 0 CHECK (chunks_total >= 0),
    -- Chunks committed in PostgreSQL, and those of them committed in Kafka as well.
    ADD COLUMN chunks_written    integer NOT NULL DEFAULT 0 CHECK (chunks_written >= 0),
    ADD COLUMN chunks_published  integer NOT NULL DEFAULT 0
        CHECK (chunks_published >= 0 AND chunks_published <= chunks_written),
    -- The keyset cursor: the greatest employee id written so far.
    ADD COLUMN written_through   text,
    -- The ids drawn for the newest written chunk: republished when its Kafka
    -- transaction did not commit.
    ADD COLUMN chunk_first_id    bigint,
    ADD COLUMN chunk_last_id     bigint;
