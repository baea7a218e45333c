-- Every notifier replica reads every partition, so each meets the same bad record. The
-- replica whose claim on (topic, partition, offset) is inserted dead-letters it; the others
-- skip it (docs/decisions/0041). Claims are needed only while replicas read past the
-- record, seconds; they are deleted after a day.
CREATE TABLE dead_letter_claims (
    topic            text NOT NULL,
    kafka_partition  integer NOT NULL,
    kafka_offset     bigint NOT NULL,
    claimed_by       text NOT NULL,
    claimed_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, kafka_partition, kafka_offset)
);
CREATE INDEX dead_letter_claims_by_age ON dead_letter_claims (claimed_at);
