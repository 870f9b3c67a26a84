-- 004: accounts, server-side sessions, service principals (API keys), groups, per-gateway
-- roles, and the shared abuse counters (lockout, rate limits) every responder process sees.
-- Secrets are never stored: passwords as bcrypt ($2b$, cost 12), session tokens, API keys and
-- invite tokens as the lower-case hex SHA-256 of the token.
-- E-mails are stored trimmed and lower-cased and compare case-insensitively (unicode_ci), so
-- 'A@x' and 'a@x' can never be two accounts. Roles: 'admin', 'operator', 'viewer'.

CREATE TABLE users (
  id                BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  email             VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
  hashed_password   VARCHAR(128) NULL,
  role              VARCHAR(20)  NOT NULL DEFAULT 'viewer',
  is_active         TINYINT(1)   NOT NULL DEFAULT 1,
  invite_token_hash CHAR(64)     NULL,
  invite_expires_at DATETIME(6)  NULL,
  created_at        DATETIME(6)  NOT NULL,
  oidc_provider     VARCHAR(100) NULL,
  oidc_sub          VARCHAR(255) NULL,
  UNIQUE KEY uq_users_email (email),
  UNIQUE KEY uq_users_invite (invite_token_hash),
  UNIQUE KEY uq_users_oidc (oidc_provider, oidc_sub),
  CONSTRAINT ck_users_role CHECK (role IN ('admin', 'operator', 'viewer'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One row per login. The cookie holds a random 256-bit token; only its SHA-256 is here. The
-- CSRF token is derived from the session token (never stored). A row is valid while
-- expires_at (absolute) is in the future and last_seen is within the idle timeout.
CREATE TABLE sessions (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  token_hash  CHAR(64)        NOT NULL,
  user_id     BIGINT UNSIGNED NOT NULL,
  created_at  DATETIME(6)     NOT NULL,
  last_seen   DATETIME(6)     NOT NULL,
  expires_at  DATETIME(6)     NOT NULL,
  client_ip   VARCHAR(45)     NULL,
  user_agent  VARCHAR(255)    NULL,
  UNIQUE KEY uq_sessions_token (token_hash),
  KEY ix_sessions_user (user_id),
  KEY ix_sessions_expires (expires_at),
  CONSTRAINT fk_sessions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE service_principals (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name        VARCHAR(100)    NOT NULL,
  key_hash    CHAR(64)        NOT NULL,
  key_prefix  VARCHAR(12)     NOT NULL,
  role        VARCHAR(20)     NOT NULL DEFAULT 'viewer',
  created_by  BIGINT UNSIGNED NULL,
  created_at  DATETIME(6)     NOT NULL,
  last_used   DATETIME(6)     NULL,
  expires_at  DATETIME(6)     NULL,
  UNIQUE KEY uq_sp_name (name),
  UNIQUE KEY uq_sp_key_hash (key_hash),
  CONSTRAINT fk_sp_created_by FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL,
  CONSTRAINT ck_sp_role CHECK (role IN ('admin', 'operator', 'viewer'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE auth_groups (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name        VARCHAR(100)    NOT NULL,
  description TEXT            NULL,
  role        VARCHAR(20)     NOT NULL DEFAULT 'viewer',
  created_at  DATETIME(6)     NOT NULL,
  UNIQUE KEY uq_groups_name (name),
  CONSTRAINT ck_groups_role CHECK (role IN ('admin', 'operator', 'viewer'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE group_members (
  group_id BIGINT UNSIGNED NOT NULL,
  user_id  BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (group_id, user_id),
  KEY ix_group_members_user (user_id),
  CONSTRAINT fk_gm_group FOREIGN KEY (group_id) REFERENCES auth_groups (id) ON DELETE CASCADE,
  CONSTRAINT fk_gm_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE user_gateway_roles (
  user_id    BIGINT UNSIGNED NOT NULL,
  gateway_id BIGINT UNSIGNED NOT NULL,
  role       VARCHAR(20)     NOT NULL,
  PRIMARY KEY (user_id, gateway_id),
  KEY ix_ugr_gateway (gateway_id),
  CONSTRAINT fk_ugr_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
  CONSTRAINT fk_ugr_gateway FOREIGN KEY (gateway_id) REFERENCES gateways (id) ON DELETE CASCADE,
  CONSTRAINT ck_ugr_role CHECK (role IN ('admin', 'operator', 'viewer'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE sp_gateway_roles (
  sp_id      BIGINT UNSIGNED NOT NULL,
  gateway_id BIGINT UNSIGNED NOT NULL,
  role       VARCHAR(20)     NOT NULL,
  PRIMARY KEY (sp_id, gateway_id),
  KEY ix_sgr_gateway (gateway_id),
  CONSTRAINT fk_sgr_sp FOREIGN KEY (sp_id) REFERENCES service_principals (id) ON DELETE CASCADE,
  CONSTRAINT fk_sgr_gateway FOREIGN KEY (gateway_id) REFERENCES gateways (id) ON DELETE CASCADE,
  CONSTRAINT ck_sgr_role CHECK (role IN ('admin', 'operator', 'viewer'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE group_gateway_roles (
  group_id   BIGINT UNSIGNED NOT NULL,
  gateway_id BIGINT UNSIGNED NOT NULL,
  role       VARCHAR(20)     NOT NULL,
  PRIMARY KEY (group_id, gateway_id),
  KEY ix_ggr_gateway (gateway_id),
  CONSTRAINT fk_ggr_group FOREIGN KEY (group_id) REFERENCES auth_groups (id) ON DELETE CASCADE,
  CONSTRAINT fk_ggr_gateway FOREIGN KEY (gateway_id) REFERENCES gateways (id) ON DELETE CASCADE,
  CONSTRAINT ck_ggr_role CHECK (role IN ('admin', 'operator', 'viewer'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Account lockout, keyed on the normalized e-mail (unknown e-mails too).
CREATE TABLE login_failures (
  email        VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL PRIMARY KEY,
  failures     INT UNSIGNED NOT NULL,
  last_failure DATETIME(6)  NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Sliding-window rate limits: one row per recorded attempt of a bucket ('login', 'write') and
-- key (client IP or actor). Old rows are pruned as the window moves.
CREATE TABLE rate_hits (
  id      BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  bucket  VARCHAR(16)     NOT NULL,
  rkey    VARCHAR(254)    NOT NULL,
  at      DATETIME(6)     NOT NULL,
  KEY ix_rate_hits (bucket, rkey, at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
