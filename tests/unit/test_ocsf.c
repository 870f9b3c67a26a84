/* Unit tests for the OCSF shorthand parser (services/ocsf.c). */
#include "config.h"

#include <string.h>

#include "services/ocsf.h"
#include "tests/unit/tap.h"

/* The member key of the parse of msg as compact JSON ("null" when absent). */
static const char *part(const char *msg, const char *key)
{
	static char buf[512];
	struct json_object *o = bw_ocsf_parse(msg);
	struct json_object *v = json_object_object_get(o, key);
	snprintf(buf, sizeof(buf), "%s",
		 v != NULL ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN) : "null");
	json_object_put(o);
	return buf;
}

int main(void)
{
	plan(22);
	const char *net = "NET:OPEN [HIGH] DENIED /usr/bin/curl(1234) -> 10.0.0.1:443 "
			  "[engine:iptables dst:10.0.0.1]";
	is_str(part(net, "class_prefix"), "\"NET\"", "class");
	is_str(part(net, "activity"), "\"OPEN\"", "activity from the suffix");
	is_str(part(net, "severity"), "\"HIGH\"", "bracketed severity");
	is_str(part(net, "disposition"), "\"DENIED\"", "leading disposition word");
	is_str(part(net, "summary"), "\"\\/usr\\/bin\\/curl(1234) -> 10.0.0.1:443\"",
	       "summary without severity, disposition and fields");
	is_str(part(net, "bracket_fields"), "{\"engine\":\"iptables\",\"dst\":\"10.0.0.1\"}",
	       "trailing k:v fields");
	is_str(part(net, "binary"), "\"\\/usr\\/bin\\/curl\"", "binary from /path(pid)");
	const char *fin = "FINDING:BLOCKED [CRIT] nsenter attempt [binary:/usr/bin/nsenter]";
	is_str(part(fin, "disposition"), "\"BLOCKED\"", "FINDING suffix is the disposition");
	is_str(part(fin, "activity"), "null", "FINDING has no activity then");
	is_str(part(fin, "binary"), "\"\\/usr\\/bin\\/nsenter\"", "binary from the bracket field");
	const char *ev = "EVENT:START allowed things happen";
	is_str(part(ev, "activity"), "null", "EVENT: no activity");
	is_str(part(ev, "disposition"), "null", "EVENT: no disposition");
	is_str(part(ev, "summary"), "\"allowed things happen\"", "EVENT summary untouched");
	is_str(part("just a message", "class_prefix"), "null", "no head: no class");
	is_str(part("just a message", "summary"), "\"just a message\"", "no head: raw summary");
	is_str(part("XYZ:RUN [BOGUS] allowed x", "class_prefix"), "null", "unknown prefix");
	is_str(part("XYZ:RUN [BOGUS] allowed x", "severity"), "null",
	       "unknown severity is consumed, not kept");
	is_str(part("XYZ:RUN [BOGUS] allowed x", "disposition"), "\"ALLOWED\"",
	       "disposition word is case-insensitive, reported upper-case");
	is_str(part("  HTTP  ", "class_prefix"), "\"HTTP\"", "a bare prefix");
	ok(bw_ocsf_is("ocsf", "x") && bw_ocsf_is("INFO", "OCSF") && !bw_ocsf_is("INFO", "x"),
	   "OCSF detection by level or target");
	ok(bw_ocsf_known_class("PROC") && !bw_ocsf_known_class("proc"), "known classes");
	ok(bw_ocsf_known_severity("FATAL") && bw_ocsf_known_disposition("ALLOWED"),
	   "known severities and dispositions");
	return done();
}
