-- 010: approval workflows (quorum voting on draft policy chunks), owned by services/approvals.
--
-- approval_workflows: at most one per (gateway, sandbox).
-- approval_chunks: the voting state of one chunk under a workflow. Every vote locks this row
--   (SELECT ... FOR UPDATE), so votes on one chunk are serialised across processes and hosts.
--   status: pending (collecting votes), firing (quorum reached, the upstream approve is being
--   sent by exactly one request), approved, rejected. A vote on a rejected chunk opens the next
--   round (round + 1); votes of earlier rounds stay for the record. escalated_at is set once per
--   round by breakwater-worker (services/escalation) when the round's first vote is older than
--   the workflow's escalation timeout.
-- approval_votes: one row per vote. UNIQUE(chunk, round, actor, seq): with distinct_actors seq is
--   always 0, so the database itself refuses a second vote of one actor (409); without it seq
--   counts the actor's earlier votes in the round.
-- approval_escalations: one row per escalated round.
CREATE TABLE approval_workflows (
  id                         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  gateway_name               VARCHAR(253) NOT NULL,
  sandbox_name               VARCHAR(253) NOT NULL,
  required_approvals         INT NOT NULL DEFAULT 2,
  required_roles_json        VARCHAR(64) CHARACTER SET ascii NOT NULL DEFAULT '[]',
  distinct_actors            TINYINT(1) NOT NULL DEFAULT 1,
  escalation_timeout_minutes INT NULL,
  created_by                 VARCHAR(254) NOT NULL,
  created_at                 DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at                 DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_approval_workflows_sandbox (gateway_name, sandbox_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE approval_chunks (
  id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  workflow_id   BIGINT UNSIGNED NOT NULL,
  chunk_id      VARCHAR(128) CHARACTER SET ascii NOT NULL,
  round         INT NOT NULL DEFAULT 1,
  status        ENUM('pending', 'firing', 'approved', 'rejected') NOT NULL DEFAULT 'pending',
  first_vote_at DATETIME(6) NULL,
  escalated_at  DATETIME(6) NULL,
  fired_by      VARCHAR(254) NULL,
  fired_at      DATETIME(6) NULL,
  decided_at    DATETIME(6) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_approval_chunks (workflow_id, chunk_id),
  KEY ix_approval_chunks_escalation (status, escalated_at, first_vote_at),
  CONSTRAINT fk_approval_chunks_workflow FOREIGN KEY (workflow_id)
    REFERENCES approval_workflows (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE approval_votes (
  id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  chunk_row  BIGINT UNSIGNED NOT NULL,
  round      INT NOT NULL,
  actor      VARCHAR(254) NOT NULL,
  seq        INT NOT NULL DEFAULT 0,
  role       VARCHAR(16) CHARACTER SET ascii NOT NULL,
  decision   ENUM('approve', 'reject') NOT NULL,
  comment    TEXT NULL,
  created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_approval_votes_actor (chunk_row, round, actor, seq),
  CONSTRAINT fk_approval_votes_chunk FOREIGN KEY (chunk_row)
    REFERENCES approval_chunks (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE approval_escalations (
  id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  chunk_row       BIGINT UNSIGNED NOT NULL,
  round           INT NOT NULL,
  gateway_name    VARCHAR(253) NOT NULL,
  sandbox_name    VARCHAR(253) NOT NULL,
  chunk_id        VARCHAR(128) CHARACTER SET ascii NOT NULL,
  timeout_minutes INT NOT NULL,
  votes           INT NOT NULL,
  escalated_at    DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_approval_escalations_round (chunk_row, round),
  CONSTRAINT fk_approval_escalations_chunk FOREIGN KEY (chunk_row)
    REFERENCES approval_chunks (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
