-- Issue 12 §5: the site's log keeps each new operation in the audit log's binary codec
-- (jiceng_core::codec::encode_ops of the one operation) in op_bin, with op_json left empty: a row
-- less than half the size, read several times faster when the operation is pushed, and marked sent
-- (its server_seq written) without moving a page's worth of JSON. Rows written before keep their
-- JSON; both are read (core/src/store/oplog_entry.rs). Nothing is rewritten here: an upgrade does
-- not stop to convert a long log.
ALTER TABLE oplog ADD COLUMN op_bin BLOB;
