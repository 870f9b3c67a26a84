-- 005: the audit trail becomes queryable at scale, append-only and tamper-evident.
--
-- Indexes: one composite index per equality filter, ending in the sort order of GET /api/audit
-- (timestamp DESC, id DESC), so a filtered page is an index range read, not a sort of the
-- matching rows. They replace the single-column indexes of 001 (each was a prefix of one).
--
-- Hash chain: every row carries prev_hash (the row_hash of the row before it) and
-- row_hash = SHA2(prev_hash | canonical text of the row). The BEFORE INSERT trigger computes both
-- inside the writing transaction while it holds the one-row chain head (audit_chain) FOR UPDATE,
-- so writers in any number of processes append one after the other and cannot fork the chain; it
-- also assigns the id (head_id + 1), so the chain order is the id order. Callers must write their
-- audit row last in a transaction (the head stays locked until commit). gateway_id is left out of
-- the hash: the foreign key sets it to NULL when a gateway is deleted (cascades fire no trigger).
-- Canonical text (services/audit.c computes the same bytes to verify):
--   id|timestamp|F(actor)|F(actor_role)|F(action)|F(resource_type)|F(resource_id)|
--   F(gateway_name)|F(detail)|F(client_ip)|F(request_id)
-- with timestamp as YYYY-MM-DDTHH:MM:SS.ffffff and F(x) = '~' for NULL, else
-- <byte length>:<bytes>.
--
-- Append-only: BEFORE UPDATE always signals; BEFORE DELETE signals unless the retention procedure
-- audit_purge is running in the session. audit_purge deletes only a prefix of the chain (the
-- oldest rows), records the last deleted link in audit_chain so the rest still verifies, and
-- appends an audit.purged row with the count in the same transaction.

ALTER TABLE audit_log
  ADD COLUMN prev_hash CHAR(64) CHARACTER SET ascii NOT NULL DEFAULT '',
  ADD COLUMN row_hash  CHAR(64) CHARACTER SET ascii NOT NULL DEFAULT '',
  DROP INDEX ix_audit_log_actor,
  DROP INDEX ix_audit_log_action,
  DROP INDEX ix_audit_log_gateway_name,
  DROP INDEX ix_audit_log_timestamp,
  ADD KEY ix_audit_log_ts (`timestamp`, id),
  ADD KEY ix_audit_log_actor_ts (actor, `timestamp`, id),
  ADD KEY ix_audit_log_action_ts (action, `timestamp`, id),
  ADD KEY ix_audit_log_rtype_ts (resource_type, `timestamp`, id),
  ADD KEY ix_audit_log_gateway_ts (gateway_name, `timestamp`, id);

CREATE TABLE audit_chain (
  id          TINYINT UNSIGNED NOT NULL PRIMARY KEY,
  head_id     BIGINT UNSIGNED NOT NULL,
  head_hash   CHAR(64) CHARACTER SET ascii NOT NULL,
  anchor_id   BIGINT UNSIGNED NOT NULL,
  anchor_hash CHAR(64) CHARACTER SET ascii NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

DELIMITER //
CREATE FUNCTION audit_field(v MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin)
  RETURNS MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
  DETERMINISTIC NO SQL
  RETURN IF(v IS NULL, '~', CONCAT(OCTET_LENGTH(v), ':', v))//

CREATE FUNCTION audit_row_hash(prev CHAR(64) CHARACTER SET ascii, rid BIGINT UNSIGNED,
    ts DATETIME(6), actor TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
    actor_role TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
    action TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
    resource_type TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
    resource_id TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
    gateway_name TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
    detail MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
    client_ip TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
    request_id TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin)
  RETURNS CHAR(64) CHARACTER SET ascii
  DETERMINISTIC NO SQL
  RETURN SHA2(CONCAT(CONVERT(prev USING utf8mb4) COLLATE utf8mb4_bin, '|', rid, '|',
    DATE_FORMAT(ts, '%Y-%m-%dT%H:%i:%s.%f'), '|',
    audit_field(actor), '|', audit_field(actor_role), '|', audit_field(action), '|',
    audit_field(resource_type), '|', audit_field(resource_id), '|',
    audit_field(gateway_name), '|', audit_field(detail), '|', audit_field(client_ip), '|',
    audit_field(request_id)), 256)//
DELIMITER ;

-- Rows written before this migration join the chain in id order.
SET @bw_chain = REPEAT('0', 64);
UPDATE audit_log SET prev_hash = @bw_chain,
  row_hash = (@bw_chain := audit_row_hash(prev_hash, id, `timestamp`, actor, actor_role, action,
    resource_type, resource_id, gateway_name, detail, client_ip, request_id))
  ORDER BY id;
INSERT INTO audit_chain (id, head_id, head_hash, anchor_id, anchor_hash)
  SELECT 1, COALESCE(MAX(id), 0), @bw_chain, 0, REPEAT('0', 64) FROM audit_log;
SET @bw_chain = NULL;

DELIMITER //
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log FOR EACH ROW
BEGIN
  DECLARE last_id BIGINT UNSIGNED;
  DECLARE last_hash CHAR(64) CHARACTER SET ascii;
  SELECT head_id, head_hash INTO last_id, last_hash FROM audit_chain WHERE id = 1 FOR UPDATE;
  SET NEW.id = last_id + 1;
  SET NEW.prev_hash = last_hash;
  SET NEW.row_hash = audit_row_hash(last_hash, NEW.id, NEW.`timestamp`, NEW.actor,
    NEW.actor_role, NEW.action, NEW.resource_type, NEW.resource_id, NEW.gateway_name,
    NEW.detail, NEW.client_ip, NEW.request_id);
  UPDATE audit_chain SET head_id = NEW.id, head_hash = NEW.row_hash WHERE id = 1;
END//

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW
BEGIN
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_log is append-only: rows cannot be updated';
END//

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log FOR EACH ROW
BEGIN
  IF NOT (@bw_audit_purge <=> CONNECTION_ID()) THEN
    SIGNAL SQLSTATE '45000'
      SET MESSAGE_TEXT = 'audit_log is append-only: rows are removed only by audit_purge';
  END IF;
END//

-- Retention: deletes the rows older than `days` days that form a prefix of the chain (a row
-- older than the cutoff but after a newer one waits for the next run) and appends an
-- audit.purged row with the count; the count is also left in @bw_audit_purged.
CREATE PROCEDURE audit_purge(IN days INT UNSIGNED, IN by_actor VARCHAR(254))
  MODIFIES SQL DATA SQL SECURITY DEFINER
BEGIN
  DECLARE cutoff DATETIME(6);
  DECLARE through_id BIGINT UNSIGNED;
  DECLARE through_hash CHAR(64) CHARACTER SET ascii;
  DECLARE n BIGINT UNSIGNED DEFAULT 0;
  DECLARE EXIT HANDLER FOR SQLEXCEPTION
  BEGIN
    SET @bw_audit_purge = NULL;
    ROLLBACK;
    RESIGNAL;
  END;
  SET cutoff = UTC_TIMESTAMP(6) - INTERVAL days DAY;
  START TRANSACTION;
  SELECT anchor_hash INTO through_hash FROM audit_chain WHERE id = 1 FOR UPDATE;
  SELECT COALESCE(MIN(id) - 1, (SELECT COALESCE(MAX(id), 0) FROM audit_log)) INTO through_id
    FROM audit_log WHERE `timestamp` >= cutoff;
  IF through_id > 0 AND EXISTS (SELECT 1 FROM audit_log WHERE id <= through_id) THEN
    SELECT row_hash INTO through_hash FROM audit_log WHERE id <= through_id
      ORDER BY id DESC LIMIT 1;
    SET @bw_audit_purge = CONNECTION_ID();
    DELETE FROM audit_log WHERE id <= through_id;
    SET n = ROW_COUNT();
    SET @bw_audit_purge = NULL;
    UPDATE audit_chain SET anchor_id = through_id, anchor_hash = through_hash WHERE id = 1;
  END IF;
  INSERT INTO audit_log (`timestamp`, actor, actor_role, action, resource_type, resource_id,
      detail)
    VALUES (UTC_TIMESTAMP(6), COALESCE(by_actor, 'system'), 'admin', 'audit.purged',
      'audit_log', '', CONCAT('{"count":', n, ',"older_than_days":', days, ',"cutoff":"',
      DATE_FORMAT(cutoff, '%Y-%m-%dT%H:%i:%s.%f+00:00'), '"}'));
  COMMIT;
  SET @bw_audit_purged = n;
END//
DELIMITER ;
