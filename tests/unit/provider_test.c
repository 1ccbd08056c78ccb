/*
 * provider_test.c - the built-in providers, each key overriding them, the
 * refusals of conf_check_oauth2 through provider_resolve, and the client
 * secret from the file or a command.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "error.h"
#include "provider.h"
#include "secret.h"

#include "unit.h"

static int
load(const char *text, struct account *a, struct error *err)
{
	struct config *cfg;
	int rc;

	error_clear(err);
	account_defaults(a);
	if (conf_parse(text, strlen(text), "c", &cfg, err) < 0)
		return -1;
	rc = conf_select(cfg, NULL, NULL, a, err);
	conf_free(cfg);
	return rc;
}

static void
test_builtin(void)
{
	static const struct {
		const char *provider;
		const char *token, *device, *authorize, *scope;
		bool device_default;
	} cases[] = {
	    {"google", "https://oauth2.googleapis.com/token",
	     "https://oauth2.googleapis.com/device/code",
	     "https://accounts.google.com/o/oauth2/v2/auth",
	     "https://mail.google.com/", false},
	    {"microsoft",
	     "https://login.microsoftonline.com/common/oauth2/v2.0/token",
	     "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode",
	     "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
	     "https://outlook.office.com/SMTP.Send offline_access", true},
	};

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char text[512];
		struct account a;
		struct oauth2_settings s;
		struct error err;

		snprintf(text, sizeof text,
		         "account default\nuser u@example.org\n"
		         "oauth2_provider %s\noauth2_client_id cid\n",
		         cases[i].provider);
		CHECK_INT(load(text, &a, &err), 0);
		CHECK(provider_account_uses_oauth2(&a));
		CHECK_INT(provider_resolve(&a, &s, &err), 0);
		CHECK_STR(s.provider, cases[i].provider);
		CHECK_STR(s.client_id, "cid");
		CHECK(s.client_secret == NULL);
		CHECK_STR(s.token_endpoint, cases[i].token);
		CHECK_STR(s.device_endpoint, cases[i].device);
		CHECK_STR(s.authorize_endpoint, cases[i].authorize);
		CHECK_STR(s.scope, cases[i].scope);
		CHECK(s.trust_file == NULL);
		CHECK_INT(s.device_default, cases[i].device_default);
		account_clear(&a);
	}
	CHECK(provider_builtin("nobody") == NULL);
	CHECK(provider_builtin("generic") != NULL);
}

/* Each key overrides the provider's value. */
static void
test_overrides(void)
{
	const char *text =
	    "account default\nuser u\noauth2_provider microsoft\n"
	    "oauth2_client_id cid\noauth2_client_secret sec\n"
	    "oauth2_token_endpoint https://127.0.0.1:8443/t\n"
	    "oauth2_device_endpoint https://127.0.0.1:8443/d\n"
	    "oauth2_authorize_endpoint https://[::1]:8443/a?x=1\n"
	    "oauth2_scope a b\noauth2_trust_file /ca.pem\n";
	struct account a;
	struct oauth2_settings s;
	struct error err;

	CHECK_INT(load(text, &a, &err), 0);
	CHECK_INT(provider_resolve(&a, &s, &err), 0);
	CHECK_STR(s.client_secret, "sec");
	CHECK(s.client_secret_eval == NULL);
	CHECK_STR(s.token_endpoint, "https://127.0.0.1:8443/t");
	CHECK_STR(s.device_endpoint, "https://127.0.0.1:8443/d");
	CHECK_STR(s.authorize_endpoint, "https://[::1]:8443/a?x=1");
	CHECK_STR(s.scope, "a b");
	CHECK_STR(s.trust_file, "/ca.pem");
	account_clear(&a);
}

static void
test_generic(void)
{
	struct account a;
	struct oauth2_settings s;
	struct error err;

	CHECK_INT(load("account default\nuser u\noauth2_provider generic\n"
	               "oauth2_client_id cid\n"
	               "oauth2_token_endpoint https://h/t\n",
	               &a, &err),
	          0);
	CHECK_INT(provider_resolve(&a, &s, &err), 0);
	CHECK_STR(s.token_endpoint, "https://h/t");
	CHECK(s.device_endpoint == NULL);
	CHECK(s.authorize_endpoint == NULL);
	CHECK(s.scope == NULL);
	CHECK(!s.device_default);
	account_clear(&a);

	CHECK_INT(load("account default\nuser u\noauth2_provider generic\n"
	               "oauth2_client_id cid\n",
	               &a, &err),
	          -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK(strstr(err.msg, "oauth2_token_endpoint") != NULL);
	account_clear(&a);
}

/* An account the command line changed after conf_select (override.c):
 * provider_resolve checks again. */
static void
test_resolve_checks(void)
{
	struct account a;
	struct oauth2_settings s;
	struct error err;

	CHECK_INT(load("account default\nuser u\noauth2_provider google\n"
	               "oauth2_client_id cid\n",
	               &a, &err),
	          0);
	free(a.auth);
	a.auth = strdup("plain");
	CHECK_INT(provider_resolve(&a, &s, &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK(strstr(err.msg, "auth plain") != NULL);
	CHECK(strstr(err.msg, "oauth2_provider") != NULL);
	account_clear(&a);

	CHECK_INT(load("account default\nuser u\n", &a, &err), 0);
	CHECK(!provider_account_uses_oauth2(&a));
	CHECK_INT(provider_resolve(&a, &s, &err), -1);
	CHECK(strstr(err.msg, "oauth2_provider") != NULL);
	account_clear(&a);
}

static void
test_client_secret(void)
{
	struct account a;
	struct secret sec;
	struct error err;

	CHECK_INT(load("account default\nuser u\noauth2_provider google\n"
	               "oauth2_client_id cid\n",
	               &a, &err),
	          0);
	CHECK_INT(provider_client_secret(&a, &sec, &err), 0);
	CHECK(sec.data == NULL);
	account_clear(&a);

	CHECK_INT(load("account default\nuser u\noauth2_provider google\n"
	               "oauth2_client_id cid\n"
	               "oauth2_client_secret_eval echo from-command\n",
	               &a, &err),
	          0);
	CHECK_INT(provider_client_secret(&a, &sec, &err), 0);
	CHECK_STR(sec.data, "from-command");
	secret_free(&sec);
	account_clear(&a);

	/* The value before the command, as password before passwordeval. */
	CHECK_INT(load("account default\nuser u\noauth2_provider google\n"
	               "oauth2_client_id cid\noauth2_client_secret v\n"
	               "oauth2_client_secret_eval exit 3\n",
	               &a, &err),
	          0);
	CHECK_INT(provider_client_secret(&a, &sec, &err), 0);
	CHECK_STR(sec.data, "v");
	secret_free(&sec);
	account_clear(&a);

	/* A failing command is named by its key, never by its output. */
	CHECK_INT(load("account default\nuser u\noauth2_provider google\n"
	               "oauth2_client_id cid\n"
	               "oauth2_client_secret_eval echo leaked; exit 3\n",
	               &a, &err),
	          0);
	CHECK_INT(provider_client_secret(&a, &sec, &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK(strstr(err.msg, "oauth2_client_secret_eval command failed "
	                      "(exit status 3)") != NULL);
	CHECK(strstr(err.msg, "leaked") == NULL);
	CHECK(sec.data == NULL);
	account_clear(&a);
}

int
main(void)
{
	test_builtin();
	test_overrides();
	test_generic();
	test_resolve_checks();
	test_client_secret();
	return unit_done();
}
