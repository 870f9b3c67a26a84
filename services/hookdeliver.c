/* hookdeliver: see hookdeliver.h. */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "lib/clock.h"
#include "lib/jsonu.h"
#include "lib/log.h"
#include "services/events.h"
#include "services/hookdeliver.h"
#include "services/hookfmt.h"
#include "services/webhooks.h"

/* Events fanned out per transaction, and how long an idle thread sleeps. */
#define FANOUT_BATCH 200
#define IDLE_MS 500
/* The delivery log's retention runs this often, deleting at most PURGE_BATCH rows a time. */
#define PURGE_EVERY_S 600
#define PURGE_BATCH 5000
/* Response bodies are read and dropped; a receiver cannot make us hold more than this. */
#define MAX_RESPONSE (64 * 1024)

struct bw_hookdeliver {
	const struct bw_conf *conf;
	const uint8_t *key;
	char owner[128];
	int delays[BW_HOOK_MAX_DELAYS];
	int ndelays;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	atomic_bool stopping;
	bool started;
	time_t purged_at; /* monotonic seconds of the last retention run */
};

/* The outcome of one attempt, before it is turned into a delivery row update. */
struct attempt {
	long code;
	bool transport_error;
	bool blocked; /* SSRF: permanent */
	bool permanent;
	char error[256];
};

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	size_t *seen = ctx;
	(void)p;
	*seen += size * n;
	return *seen > MAX_RESPONSE ? 0 : size * n;
}

/* Options every transfer gets: no proxy from the environment (it would bypass the address
 * pinning), no redirects, no signals (threads), the delivery timeout. */
static void common_options(CURL *c, const struct bw_conf *conf, struct curl_slist *resolve)
{
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)conf->webhook_delivery_timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)conf->webhook_delivery_timeout);
	if (resolve != NULL)
		curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
}

/* Checks host now and returns the CURLOPT_RESOLVE list pinning it (NULL for a literal, which
 * needs none); false with a->error set when the host is refused or does not resolve. */
static bool pin_host(const struct bw_conf *conf, const char *host, int port, bool literal,
		     const char *what, struct curl_slist **resolve, struct attempt *a)
{
	char addr[64], entry[600];
	enum bw_hook_resolve v =
	    bw_hook_resolve(host, conf->webhook_allow_loopback, addr, sizeof(addr));
	if (v == BW_HOOK_BLOCKED) {
		a->blocked = true;
		snprintf(a->error, sizeof(a->error),
			 "SSRF blocked: %s resolves to a private address", what);
		return false;
	}
	if (v == BW_HOOK_NO_DNS) {
		a->transport_error = true;
		snprintf(a->error, sizeof(a->error), "cannot resolve the %s", what);
		return false;
	}
	if (literal)
		return true;
	snprintf(entry, sizeof(entry), strchr(addr, ':') ? "%s:%d:[%s]" : "%s:%d:%s", host, port,
		 addr);
	*resolve = curl_slist_append(NULL, entry);
	return true;
}

static void curl_failed(struct attempt *a, CURLcode cc)
{
	a->transport_error = true;
	snprintf(a->error, sizeof(a->error), "%s", curl_easy_strerror(cc));
}

static struct curl_slist *add_header(struct curl_slist *l, struct bw_arena *ar, const char *name,
				     const char *value)
{
	const char *h = bw_arena_printf(ar, "%s: %s", name, value);
	return h != NULL ? curl_slist_append(l, h) : l;
}

static void attempt_http(struct bw_hookdeliver *hd, struct bw_arena *ar,
			 const struct bw_hook_job *job, const char *body, size_t len,
			 struct attempt *a)
{
	struct bw_hook_url u;
	struct curl_slist *resolve = NULL, *headers = NULL;
	size_t seen = 0;
	const char *why = bw_hook_url_parse(ar, job->url, &u);
	if (why != NULL) {
		a->permanent = true;
		snprintf(a->error, sizeof(a->error), "%s", why);
		return;
	}
	if (!pin_host(hd->conf, u.host, u.port, u.literal, "target", &resolve, a))
		return;
	CURL *c = curl_easy_init();
	if (c == NULL) {
		a->transport_error = true;
		snprintf(a->error, sizeof(a->error), "out of memory");
		goto out;
	}
	headers = curl_slist_append(NULL, "Content-Type: application/json");
	headers = curl_slist_append(headers, "Expect:");
	headers = add_header(headers, ar, "User-Agent", "Breakwater-Webhook/" PACKAGE_VERSION);
	headers = add_header(headers, ar, "X-Shoreguard-Event", job->event_type);
	headers = add_header(headers, ar, "X-Shoreguard-Event-Id",
			     bw_arena_printf(ar, "%lld", job->event_id));
	headers =
	    add_header(headers, ar, "X-Shoreguard-Delivery", bw_arena_printf(ar, "%lld", job->id));
	headers = add_header(headers, ar, "X-Shoreguard-Timestamp", job->event_ts);
	if (strcmp(job->channel_type, "generic") == 0) {
		char sig[BW_HOOK_SIG_LEN];
		bw_hook_sign(job->secret, body, len, sig);
		headers = add_header(headers, ar, "X-Shoreguard-Signature", sig);
	}
	common_options(c, hd->conf, resolve);
	curl_easy_setopt(c, CURLOPT_URL, job->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &seen);
	CURLcode cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->code);
	if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && a->code > 0))
		curl_failed(a, cc);
	else if (a->code >= 300)
		snprintf(a->error, sizeof(a->error), "HTTP %ld", a->code);
out:
	curl_slist_free_all(headers);
	curl_slist_free_all(resolve);
	if (c != NULL)
		curl_easy_cleanup(c);
}

/* --- e-mail ------------------------------------------------------------------------------ */

struct mail {
	const char *p;
	size_t left;
};

static size_t mail_read(char *buf, size_t size, size_t n, void *ctx)
{
	struct mail *m = ctx;
	size_t k = size * n < m->left ? size * n : m->left;
	memcpy(buf, m->p, k);
	m->p += k;
	m->left -= k;
	return k;
}

static const char *cfg_str(struct json_object *cfg, const char *key, const char *def)
{
	struct json_object *v = NULL;
	if (cfg != NULL && json_object_object_get_ex(cfg, key, &v) &&
	    json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return def;
}

/* A header value with CR and LF removed (they were refused at creation; belt and braces). */
static const char *one_line(struct bw_arena *ar, const char *s)
{
	char *c = bw_arena_strdup(ar, s);
	for (char *p = c; p != NULL && *p != '\0'; p++)
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	return c != NULL ? c : "";
}

/* The RFC 5322 message: headers, then the text with CRLF line ends. Arena memory. */
static const char *mail_message(struct bw_arena *ar, const struct bw_hook_job *job,
				const char *from, const char *to, const char *subject,
				const char *text)
{
	size_t sl = strlen(subject);
	unsigned char *b64 = bw_arena_alloc(ar, 4 * ((sl + 2) / 3) + 1);
	if (b64 == NULL)
		return NULL;
	EVP_EncodeBlock(b64, (const unsigned char *)subject, (int)sl);
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	const char *msg = bw_arena_printf(
	    ar,
	    "Date: %s\r\nFrom: %s\r\nTo: %s\r\nSubject: =?UTF-8?B?%s?=\r\n"
	    "Message-ID: <delivery-%lld.event-%lld@breakwater>\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
	    "X-Shoreguard-Event: %s\r\nX-Shoreguard-Event-Id: %lld\r\n\r\n",
	    date, one_line(ar, from), one_line(ar, to), b64, job->id, job->event_id,
	    job->event_type, job->event_id);
	for (const char *p = text; msg != NULL && *p != '\0';) {
		size_t k = strcspn(p, "\n");
		/* CRLF line ends as SMTP wants; curl dot-stuffs lines starting with ".". */
		msg = bw_arena_printf(ar, "%s%.*s\r\n", msg, (int)k, p);
		p += k;
		if (*p == '\n')
			p++;
	}
	return msg;
}

static void attempt_email(struct bw_hookdeliver *hd, struct bw_arena *ar,
			  const struct bw_hook_job *job, const char *text, const char *subject,
			  struct attempt *a)
{
	struct json_object *cfg = NULL;
	struct bw_json_error jerr;
	struct curl_slist *resolve = NULL, *rcpt = NULL;
	CURL *c = NULL;
	if (job->extra_config != NULL && bw_json_parse(job->extra_config, strlen(job->extra_config),
						       8, &cfg, &jerr) == BW_JSON_OK)
		bw_arena_defer(ar, bw_json_release, cfg);
	const char *host = cfg_str(cfg, "smtp_host", "localhost");
	const char *from = cfg_str(cfg, "from_addr", "shoreguard@localhost");
	const char *user = cfg_str(cfg, "smtp_user", NULL);
	struct json_object *port_v = NULL, *to_v = NULL;
	int port = 587;
	if (cfg != NULL && json_object_object_get_ex(cfg, "smtp_port", &port_v) &&
	    json_object_is_type(port_v, json_type_int))
		port = json_object_get_int(port_v);
	const char *to_line = "";
	if (cfg != NULL && json_object_object_get_ex(cfg, "to_addrs", &to_v) &&
	    json_object_is_type(to_v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(to_v); i++) {
			const char *t = json_object_get_string(json_object_array_get_idx(to_v, i));
			rcpt = curl_slist_append(rcpt, bw_arena_printf(ar, "<%s>", t));
			to_line = bw_arena_printf(ar, "%s%s%s", to_line, i > 0 ? ", " : "", t);
		}
	} else {
		rcpt = curl_slist_append(rcpt, bw_arena_printf(ar, "<%s>", job->url));
		to_line = job->url;
	}
	bool literal = strchr(host, ':') != NULL || strspn(host, "0123456789.") == strlen(host);
	if (!pin_host(hd->conf, host, port, literal, "SMTP host", &resolve, a))
		goto out;
	/* Implicit TLS and login only with both user and password (the reference's rule). */
	bool login = user != NULL && job->smtp_pass != NULL;
	const char *url = bw_arena_printf(ar, strchr(host, ':') ? "%s://[%s]:%d" : "%s://%s:%d",
					  login ? "smtps" : "smtp", host, port);
	const char *msg = mail_message(ar, job, from, to_line, subject, text);
	c = curl_easy_init();
	if (c == NULL || url == NULL || msg == NULL || to_line == NULL) {
		a->transport_error = true;
		snprintf(a->error, sizeof(a->error), "out of memory");
		goto out;
	}
	struct mail m = {msg, strlen(msg)};
	common_options(c, hd->conf, resolve);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, bw_arena_printf(ar, "<%s>", from));
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, mail_read);
	curl_easy_setopt(c, CURLOPT_READDATA, &m);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	if (login) {
		curl_easy_setopt(c, CURLOPT_USERNAME, user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, job->smtp_pass);
	}
	CURLcode cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->code);
	if (cc != CURLE_OK) {
		curl_failed(a, cc);
		/* SMTP 5xx is a permanent refusal (unknown mailbox, relaying denied). */
		a->permanent = a->code >= 500 && a->code < 600;
	}
	a->code = 0; /* an SMTP reply code is not an HTTP status */
out:
	curl_slist_free_all(rcpt);
	curl_slist_free_all(resolve);
	if (c != NULL)
		curl_easy_cleanup(c);
}

/* --- one delivery -------------------------------------------------------------------------- */

static struct bw_hook_outcome decide(struct bw_hookdeliver *hd, const struct bw_hook_job *job,
				     const struct attempt *a)
{
	struct bw_hook_outcome o = {"success", a->code, NULL, 0};
	enum bw_hook_verdict v = BW_HOOK_SUCCESS;
	if (a->blocked || a->permanent)
		v = BW_HOOK_PERMANENT;
	else if (a->transport_error)
		v = BW_HOOK_RETRY;
	else if (a->code > 0)
		v = bw_hook_classify(a->code);
	if (v == BW_HOOK_SUCCESS)
		return o;
	o.error = a->error[0] != '\0' ? a->error : "delivery failed";
	o.status = "failed";
	int delay = bw_hook_next_delay(hd->delays, hd->ndelays, job->attempts + 1);
	if (v == BW_HOOK_RETRY && delay >= 0) {
		o.status = "retrying";
		o.retry_in = delay;
	}
	return o;
}

static void deliver(struct bw_hookdeliver *hd, struct bw_svc *svc, const struct bw_hook_job *job)
{
	struct attempt a;
	memset(&a, 0, sizeof(a));
	struct json_object *data = NULL;
	struct bw_json_error jerr;
	const char *body = NULL, *subject = NULL;
	size_t len = 0;
	if (job->payload == NULL) {
		a.permanent = true;
		snprintf(a.error, sizeof(a.error), "the event is no longer stored");
	} else if (job->secret == NULL) {
		a.permanent = true;
		snprintf(a.error, sizeof(a.error), "the webhook's secret cannot be opened");
	} else if (bw_json_parse(job->payload, strlen(job->payload), BW_JSON_MAX_DEPTH, &data,
				 &jerr) == BW_JSON_OK) {
		bw_arena_defer(svc->arena, bw_json_release, data);
		body = bw_hook_body(svc->arena, job->channel_type, job->event_type, job->event_ts,
				    data, &len, &subject);
	}
	if (body == NULL && a.error[0] == '\0') {
		a.permanent = true;
		snprintf(a.error, sizeof(a.error), "the event cannot be formatted");
	}
	if (body != NULL && strcmp(job->channel_type, "email") == 0)
		attempt_email(hd, svc->arena, job, body, subject, &a);
	else if (body != NULL)
		attempt_http(hd, svc->arena, job, body, len, &a);
	struct bw_hook_outcome o = decide(hd, job, &a);
	enum bw_err rc = bw_webhooks_record(svc, hd->owner, job->id, &o);
	bw_log(rc == BW_OK ? BW_LOG_INFO : BW_LOG_WARN, "webhooks", NULL,
	       "delivery %lld (webhook %lld, event %lld %s) attempt %d: %s%s%s%s", job->id,
	       job->webhook_id, job->event_id, job->event_type, job->attempts + 1, o.status,
	       o.error != NULL ? " (" : "", o.error != NULL ? o.error : "",
	       o.error != NULL ? ")" : "");
	if (rc != BW_OK)
		bw_log(BW_LOG_WARN, "webhooks", NULL, "delivery %lld: outcome not recorded: %s",
		       job->id, rc == BW_ECONFLICT ? "lease lost" : bw_strerror(rc));
}

static void idle(struct bw_hookdeliver *hd)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += IDLE_MS * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&hd->mu);
	if (!atomic_load(&hd->stopping))
		pthread_cond_timedwait(&hd->cv, &hd->mu, &until);
	pthread_mutex_unlock(&hd->mu);
}

/* The delivery log keeps finished rows webhook_delivery_max_age_days days (the reference's 7)
 * and the event outbox dispatched rows event_retention_days days; every worker may run it, the
 * deletes do not conflict. */
static void purge(struct bw_hookdeliver *hd, struct bw_svc *svc)
{
	unsigned long long n = 0;
	time_t now = (time_t)bw_mono_s();
	if (hd->purged_at != 0 && now - hd->purged_at < PURGE_EVERY_S)
		return;
	hd->purged_at = now;
	enum bw_err rc = BW_OK;
	if (hd->conf->webhook_delivery_max_age_days > 0)
		rc = bw_webhooks_purge(svc, hd->conf->webhook_delivery_max_age_days, PURGE_BATCH,
				       &n);
	if (rc != BW_OK)
		bw_log(BW_LOG_WARN, "webhooks", NULL, "delivery log purge failed: %s",
		       bw_strerror(rc));
	else if (n > 0)
		bw_log(BW_LOG_INFO, "webhooks", NULL, "purged %llu old deliveries", n);
	n = 0;
	rc = bw_event_purge(svc, hd->conf->event_retention_days, &n);
	if (rc != BW_OK)
		bw_log(BW_LOG_WARN, "webhooks", NULL, "event outbox purge failed: %s",
		       bw_strerror(rc));
	else if (n > 0)
		bw_log(BW_LOG_INFO, "webhooks", NULL, "purged %llu dispatched events", n);
}

/* One tick: fan out what is new, then deliver everything due. */
static void tick(struct bw_hookdeliver *hd, struct bw_svc *svc)
{
	size_t events = 0;
	purge(hd, svc);
	enum bw_err rc = bw_webhooks_fanout(svc, FANOUT_BATCH, &events);
	if (rc != BW_OK)
		bw_log(BW_LOG_WARN, "webhooks", NULL, "fan-out failed: %s", bw_strerror(rc));
	bw_arena_reset(svc->arena);
	while (!atomic_load(&hd->stopping)) {
		struct bw_hook_job job;
		bool got = false;
		rc = bw_webhooks_claim(svc, hd->owner, hd->conf->webhook_lease, &job, &got);
		if (rc != BW_OK)
			bw_log(BW_LOG_WARN, "webhooks", NULL, "claim failed: %s", bw_strerror(rc));
		if (rc != BW_OK || !got)
			break;
		deliver(hd, svc, &job);
		bw_arena_reset(svc->arena);
	}
	bw_arena_reset(svc->arena);
}

static void *run(void *arg)
{
	struct bw_hookdeliver *hd = arg;
	bw_db_thread_init();
	struct bw_db *db = bw_db_new(hd->conf);
	struct bw_arena *arena = bw_arena_new(64 * 1024);
	if (db == NULL || arena == NULL) {
		bw_log(BW_LOG_ERROR, "webhooks", NULL, "out of memory: delivery thread stops");
		goto out;
	}
	struct bw_svc svc = {.db = db, .arena = arena, .master_key = hd->key, .conf = hd->conf};
	while (!atomic_load(&hd->stopping)) {
		tick(hd, &svc);
		idle(hd);
	}
	/* Another worker may take these over at once instead of after the lease. */
	bw_webhooks_release(&svc, hd->owner);
out:
	bw_arena_free(arena);
	bw_db_close(db);
	bw_db_thread_end();
	return NULL;
}

enum bw_err bw_hookdeliver_start(const struct bw_conf *conf, const uint8_t *key, const char *owner,
				 struct bw_hookdeliver **out)
{
	*out = NULL;
	struct bw_hookdeliver *hd = calloc(1, sizeof(*hd));
	if (hd == NULL)
		return BW_ENOMEM;
	hd->conf = conf;
	hd->key = key;
	snprintf(hd->owner, sizeof(hd->owner), "%s", owner);
	hd->ndelays =
	    bw_hook_parse_delays(conf->webhook_retry_delays, hd->delays, BW_HOOK_MAX_DELAYS);
	if (hd->ndelays < 0 || conf->webhook_lease <= conf->webhook_delivery_timeout + 2) {
		bw_log(BW_LOG_ERROR, "webhooks", NULL,
		       "webhook_retry_delays must be up to %d comma-separated seconds and "
		       "webhook_lease must exceed webhook_delivery_timeout + 2",
		       BW_HOOK_MAX_DELAYS);
		free(hd);
		return BW_EINVAL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(hd);
		return BW_ENOMEM;
	}
	pthread_mutex_init(&hd->mu, NULL);
	pthread_cond_init(&hd->cv, NULL);
	atomic_init(&hd->stopping, false);
	if (pthread_create(&hd->thread, NULL, run, hd) != 0) {
		bw_hookdeliver_stop(hd);
		return BW_ENOMEM;
	}
	hd->started = true;
	*out = hd;
	return BW_OK;
}

void bw_hookdeliver_stop(struct bw_hookdeliver *hd)
{
	if (hd == NULL)
		return;
	if (hd->started) {
		pthread_mutex_lock(&hd->mu);
		atomic_store(&hd->stopping, true);
		pthread_cond_signal(&hd->cv);
		pthread_mutex_unlock(&hd->mu);
		pthread_join(hd->thread, NULL);
	}
	pthread_cond_destroy(&hd->cv);
	pthread_mutex_destroy(&hd->mu);
	curl_global_cleanup();
	free(hd);
}
