/* roamctl: sends one command to a roam daemon's control socket and prints the reply.
 * Protocol: docs/protocols/control.md; usage: docs/man/roamctl.8. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roam/ctl.h"
#include "roam/daemon.h"
#include "roam/json.h"

enum { EXIT_OK = 0, EXIT_CMD = 1, EXIT_USAGE = 2, EXIT_CONNECT = 3 };

#define DEFAULT_TIMEOUT_MS 5000

static void usage(FILE *f)
{
	fprintf(f,
		"usage: roamctl [-s SOCKET | -d DAEMON] [--json] [-t TIMEOUT_MS] COMMAND "
		"[key=value ...]\n"
		"  -s SOCKET      control socket path (default: $ROAMCTL_SOCKET)\n"
		"  -d DAEMON      the socket of DAEMON: %s/DAEMON.sock\n"
		"  --json         print the result as JSON\n"
		"  -t TIMEOUT_MS  give up after this long (default %d)\n"
		"  -h, --help     this help\n"
		"Try 'roamctl -d DAEMON help' for the commands a daemon offers.\n",
		ROAM_RUN_DIR, DEFAULT_TIMEOUT_MS);
}

static int usage_error(const char *fmt, const char *what)
{
	fprintf(stderr, "roamctl: ");
	fprintf(stderr, fmt, what);
	fputc('\n', stderr);
	usage(stderr);
	return EXIT_USAGE;
}

/* "123" or "-5" within int64? */
static bool parse_int(const char *s, int64_t *out)
{
	const char *p = s;
	if (*p == '-')
		p++;
	if (!*p)
		return false;
	for (const char *q = p; *q; q++)
		if (*q < '0' || *q > '9')
			return false;
	if (p[0] == '0' && p[1]) /* keep "007" a string: JSON has no leading zeros */
		return false;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

/* ---------------------------------------------------------------- human output */

/* Display width of a UTF-8 string (code points). */
static size_t text_width(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* A value as one line of text (malloc'd): strings unquoted, containers as compact JSON. */
static char *scalar_text(const struct json_value *v)
{
	if (!v)
		return strdup("");
	switch (v->type) {
	case JSON_NULL:
		return strdup("-");
	case JSON_BOOL:
		return strdup(v->boolean ? "true" : "false");
	case JSON_NUMBER:
		return strdup(v->str);
	case JSON_STRING: {
		char *s = strdup(v->str);
		for (char *p = s; p && *p; p++)
			if ((unsigned char)*p < 0x20)
				*p = ' ';
		return s;
	}
	default: {
		struct wbuf b;
		struct json_writer w;
		wbuf_init(&b);
		json_writer_init(&w, &b);
		json_write_value(&w, v);
		char *s = strdup(wbuf_str(&b));
		wbuf_free(&b);
		return s;
	}
	}
}

static bool is_container(const struct json_value *v)
{
	return v->type == JSON_OBJECT || v->type == JSON_ARRAY;
}

static bool array_of_objects(const struct json_value *v)
{
	if (v->type != JSON_ARRAY || v->len == 0)
		return false;
	for (size_t i = 0; i < v->len; i++)
		if (v->items[i]->type != JSON_OBJECT)
			return false;
	return true;
}

static void print_value(const struct json_value *v, int indent);

/* An array of objects as a table: a header row of the keys (in order of first appearance),
 * then one row per object. */
static void print_table(const struct json_value *arr, int indent)
{
	const char **keys = NULL;
	size_t nkeys = 0, cap = 0;
	for (size_t i = 0; i < arr->len; i++) {
		const struct json_value *o = arr->items[i];
		for (size_t m = 0; m < o->len; m++) {
			size_t k;
			for (k = 0; k < nkeys; k++)
				if (strcmp(keys[k], o->members[m].key) == 0)
					break;
			if (k < nkeys)
				continue;
			if (nkeys == cap) {
				cap = cap ? cap * 2 : 8;
				const char **nk = realloc(keys, cap * sizeof(*nk));
				if (!nk) {
					free(keys);
					return;
				}
				keys = nk;
			}
			keys[nkeys++] = o->members[m].key;
		}
	}
	size_t ncells = (arr->len + 1) * nkeys;
	char **cells = calloc(ncells ? ncells : 1, sizeof(*cells));
	size_t *width = calloc(nkeys ? nkeys : 1, sizeof(*width));
	if (!cells || !width)
		goto out;
	for (size_t k = 0; k < nkeys; k++) {
		cells[k] = strdup(keys[k]);
		width[k] = text_width(keys[k]);
	}
	for (size_t i = 0; i < arr->len; i++) {
		for (size_t k = 0; k < nkeys; k++) {
			const struct json_value *cv = json_get(arr->items[i], keys[k]);
			char *t = cv ? scalar_text(cv) : strdup("");
			cells[(i + 1) * nkeys + k] = t;
			if (t && text_width(t) > width[k])
				width[k] = text_width(t);
		}
	}
	for (size_t r = 0; r <= arr->len; r++) {
		printf("%*s", indent, "");
		for (size_t k = 0; k < nkeys; k++) {
			const char *t = cells[r * nkeys + k] ? cells[r * nkeys + k] : "";
			if (k + 1 == nkeys)
				printf("%s", t);
			else
				printf("%s%*s", t, (int)(width[k] - text_width(t) + 2), "");
		}
		printf("\n");
	}
out:
	if (cells)
		for (size_t i = 0; i < ncells; i++)
			free(cells[i]);
	free(cells);
	free(width);
	free(keys);
}

/* An object as aligned "key: value" lines; nested objects and tables indented below their
 * key. */
static void print_object(const struct json_value *o, int indent)
{
	size_t w = 0;
	for (size_t m = 0; m < o->len; m++) {
		size_t kw = text_width(o->members[m].key);
		if (kw > w)
			w = kw;
	}
	for (size_t m = 0; m < o->len; m++) {
		const char *key = o->members[m].key;
		const struct json_value *v = o->members[m].value;
		if (is_container(v) && v->len > 0 && (v->type == JSON_OBJECT || array_of_objects(v))) {
			printf("%*s%s:\n", indent, "", key);
			print_value(v, indent + 2);
			continue;
		}
		char *t;
		if (v->type == JSON_ARRAY) {
			/* Scalars (or mixed) on one line, comma separated. */
			struct wbuf b;
			wbuf_init(&b);
			for (size_t i = 0; i < v->len; i++) {
				char *it = scalar_text(v->items[i]);
				wbuf_printf(&b, "%s%s", i ? ", " : "", it ? it : "");
				free(it);
			}
			t = strdup(v->len ? wbuf_str(&b) : "(none)");
			wbuf_free(&b);
		} else if (v->type == JSON_OBJECT) {
			t = strdup("(none)");
		} else {
			t = scalar_text(v);
		}
		printf("%*s%s:%*s %s\n", indent, "", key, (int)(w - text_width(key)), "",
		       t ? t : "");
		free(t);
	}
}

static void print_value(const struct json_value *v, int indent)
{
	if (v->type == JSON_OBJECT) {
		print_object(v, indent);
	} else if (array_of_objects(v)) {
		print_table(v, indent);
	} else if (v->type == JSON_ARRAY) {
		if (v->len == 0)
			printf("%*s(none)\n", indent, "");
		for (size_t i = 0; i < v->len; i++) {
			if (is_container(v->items[i]) && v->items[i]->len > 0) {
				print_value(v->items[i], indent + 2);
				continue;
			}
			char *t = scalar_text(v->items[i]);
			printf("%*s%s\n", indent, "", t ? t : "");
			free(t);
		}
	} else if (v->type != JSON_NULL) {
		char *t = scalar_text(v);
		printf("%*s%s\n", indent, "", t ? t : "");
		free(t);
	}
}

/* ---------------------------------------------------------------- main */

/* "/run/roam/hlrd.sock" -> "hlrd" (for the hint in connection errors). */
static void daemon_of(const char *path, char *out, size_t outlen)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	size_t n = strlen(b);
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, b, n);
	out[n] = 0;
	char *dot = strstr(out, ".sock");
	if (dot && dot[5] == 0)
		*dot = 0;
}

int main(int argc, char **argv)
{
	const char *sock = getenv("ROAMCTL_SOCKET");
	char sockbuf[ROAM_PATH_MAX];
	bool json_out = false;
	int timeout = DEFAULT_TIMEOUT_MS;
	int i;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-' || a[1] == 0)
			break;
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(a, "--json") == 0 || strcmp(a, "-j") == 0) {
			json_out = true;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return EXIT_OK;
		} else if (strcmp(a, "-s") == 0 || strcmp(a, "-d") == 0 || strcmp(a, "-t") == 0) {
			if (i + 1 >= argc)
				return usage_error("option %s needs an argument", a);
			const char *v = argv[++i];
			if (!*v)
				return usage_error("option %s: empty argument", a);
			if (a[1] == 's') {
				sock = v;
			} else if (a[1] == 'd') {
				if (strchr(v, '/'))
					return usage_error("-d takes a daemon name, not a path: %s", v);
				int n = snprintf(sockbuf, sizeof(sockbuf), "%s/%s.sock", ROAM_RUN_DIR, v);
				if (n < 0 || (size_t)n >= sizeof(sockbuf))
					return usage_error("daemon name too long: %s", v);
				sock = sockbuf;
			} else {
				int64_t t;
				if (!parse_int(v, &t) || t <= 0 || t > 3600 * 1000)
					return usage_error("bad timeout '%s' (milliseconds, 1-3600000)", v);
				timeout = (int)t;
			}
		} else {
			return usage_error("unknown option '%s'", a);
		}
	}
	if (i >= argc)
		return usage_error("%s", "no command given");
	if (!sock || !*sock)
		return usage_error("%s", "no socket: give -s SOCKET or -d DAEMON, or set ROAMCTL_SOCKET");
	const char *cmd = argv[i++];

	/* The request: {"cmd":COMMAND,"args":{key: typed value, ...}} */
	struct wbuf req;
	struct json_writer w;
	wbuf_init(&req);
	json_writer_init(&w, &req);
	json_obj_begin(&w);
	json_kv_str(&w, "cmd", cmd);
	json_key(&w, "args");
	json_obj_begin(&w);
	for (int k = i; k < argc; k++) {
		char *eq = strchr(argv[k], '=');
		if (!eq || eq == argv[k]) {
			wbuf_free(&req);
			return usage_error("argument '%s' is not key=value", argv[k]);
		}
		for (int p = i; p < k; p++) {
			size_t kl = (size_t)(eq - argv[k]);
			if (strncmp(argv[p], argv[k], kl) == 0 && argv[p][kl] == '=') {
				wbuf_free(&req);
				return usage_error("argument '%s' given twice", argv[k]);
			}
		}
		*eq = 0;
		const char *val = eq + 1;
		int64_t n;
		json_key(&w, argv[k]);
		if (parse_int(val, &n))
			json_int(&w, n);
		else if (strcmp(val, "true") == 0 || strcmp(val, "false") == 0)
			json_bool(&w, val[0] == 't');
		else
			json_str(&w, val);
		*eq = '=';
	}
	json_obj_end(&w);
	json_obj_end(&w);
	if (json_writer_err(&w) < 0) {
		fprintf(stderr, "roamctl: cannot build the request: %s\n",
			strerror(-json_writer_err(&w)));
		wbuf_free(&req);
		return EXIT_USAGE;
	}

	char *reply = NULL;
	int r = ctl_call(sock, wbuf_str(&req), &reply, timeout);
	wbuf_free(&req);
	if (r < 0) {
		char d[64];
		daemon_of(sock, d, sizeof(d));
		switch (r) {
		case -ENOENT:
			fprintf(stderr, "roamctl: cannot connect to %s: no such file (is %s running?)\n",
				sock, d);
			break;
		case -ECONNREFUSED:
			fprintf(stderr, "roamctl: cannot connect to %s: connection refused (is %s "
				"running?)\n", sock, d);
			break;
		case -EACCES:
		case -EPERM:
			fprintf(stderr, "roamctl: cannot connect to %s: permission denied (need root "
				"or the socket's group)\n", sock);
			break;
		case -ETIMEDOUT:
			fprintf(stderr, "roamctl: %s: no reply within %d ms\n", sock, timeout);
			break;
		case -ECONNRESET:
			fprintf(stderr, "roamctl: %s: connection closed before a reply\n", sock);
			break;
		case -EMSGSIZE:
			fprintf(stderr, "roamctl: %s: reply too large\n", sock);
			return EXIT_CMD;
		default:
			fprintf(stderr, "roamctl: cannot talk to %s: %s\n", sock, strerror(-r));
		}
		return EXIT_CONNECT;
	}

	char err[200];
	struct json_value *rep = NULL;
	bool ok;
	if (json_parse(reply, strlen(reply), &rep, err, sizeof(err)) < 0 ||
	    json_get_bool(rep, "ok", &ok) < 0) {
		fprintf(stderr, "roamctl: malformed reply from %s%s%s\n", sock, err[0] ? ": " : "",
			err);
		json_free(rep);
		free(reply);
		return EXIT_CMD;
	}
	free(reply);
	if (!ok) {
		const char *msg = "unknown error";
		json_get_str(rep, "error", &msg);
		fprintf(stderr, "roamctl: %s: %s\n", cmd, msg);
		json_free(rep);
		return EXIT_CMD;
	}
	const struct json_value *result = json_get(rep, "result");
	if (json_out) {
		struct wbuf out;
		wbuf_init(&out);
		json_writer_init(&w, &out);
		json_write_value(&w, result);
		printf("%s\n", wbuf_str(&out));
		wbuf_free(&out);
	} else if (result) {
		print_value(result, 0);
	}
	json_free(rep);
	if (fflush(stdout) != 0) {
		perror("roamctl: stdout");
		return EXIT_CMD;
	}
	return EXIT_OK;
}
