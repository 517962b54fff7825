-- Producer ids for idempotent producers (KIP-98). A sequence is fine for ids (they only need to
-- be unique across processes), never for offsets.
CREATE SEQUENCE "producer_id_seq" START WITH 1000 INCREMENT BY 1;
