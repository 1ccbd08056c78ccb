/*
 * provider.c - the built-in OAuth2 providers and an account's settings
 * resolved over them (see provider.h).
 *
 * The table says what is sent where; mailpost.conf(5), OAUTH2, shows it
 * to users with the provider's documentation each value was checked
 * against:
 *   Google: developers.google.com/identity/protocols/oauth2/native-app
 *     (the browser flow of a desktop client: authorize and token
 *     endpoints), .../oauth2/limited-input-device (the device endpoint,
 *     and its short list of scopes, which leaves out the mail scope), and
 *     developers.google.com/gmail/imap/xoauth2-protocol (the scope
 *     https://mail.google.com/ for SMTP).
 *   Microsoft: learn.microsoft.com/entra/identity-platform/
 *     v2-oauth2-auth-code-flow and v2-oauth2-device-code (the v2.0
 *     endpoints of the "common" tenant), and learn.microsoft.com/exchange/
 *     client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-
 *     smtp-application-by-using-oauth (the SMTP.Send scope; offline_access
 *     for a refresh token).
 */
#include "config.h"

#include "provider.h"

#include <string.h>

static const struct oauth2_settings builtin[] = {
    {
        .provider = "google",
        .token_endpoint = "https://oauth2.googleapis.com/token",
        .device_endpoint = "https://oauth2.googleapis.com/device/code",
        .authorize_endpoint = "https://accounts.google.com/o/oauth2/v2/auth",
        .scope = "https://mail.google.com/",
        .device_default = false,
    },
    {
        .provider = "microsoft",
        .token_endpoint =
            "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        .device_endpoint =
            "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode",
        .authorize_endpoint =
            "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
        .scope = "https://outlook.office.com/SMTP.Send offline_access",
        .device_default = true,
    },
    {
        .provider = "generic",
        .device_default = true,
    },
};

const struct oauth2_settings *
provider_builtin(const char *name)
{
	for (size_t i = 0; name && i < sizeof builtin / sizeof *builtin; i++)
		if (strcmp(builtin[i].provider, name) == 0)
			return &builtin[i];
	return NULL;
}

bool
provider_account_uses_oauth2(const struct account *a)
{
	return a->oauth2_provider != NULL;
}

/* The account's value when it gives one, else the built-in one. */
static const char *
over(const char *mine, const char *theirs)
{
	return mine && *mine ? mine : theirs;
}

int
provider_resolve(const struct account *a, struct oauth2_settings *out,
                 struct error *err)
{
	const struct oauth2_settings *b = provider_builtin(a->oauth2_provider);

	memset(out, 0, sizeof *out);
	if (!a->oauth2_provider)
		return error_set(err, ERROR_CONFIG,
		                 "account '%s' does not use OAuth2 (no "
		                 "oauth2_provider)",
		                 a->name ? a->name : "default");
	if (!b)
		return error_set(err, ERROR_SOFTWARE,
		                 "oauth2_provider '%s' is not in the table",
		                 a->oauth2_provider);
	if (conf_check_oauth2(a, err) < 0)
		return -1;
	*out = *b;
	out->client_id = a->oauth2_client_id;
	out->client_secret = over(a->oauth2_client_secret, NULL);
	out->client_secret_eval =
	    out->client_secret ? NULL
	                       : over(a->oauth2_client_secret_eval, NULL);
	out->token_endpoint = over(a->oauth2_token_endpoint, b->token_endpoint);
	out->device_endpoint =
	    over(a->oauth2_device_endpoint, b->device_endpoint);
	out->authorize_endpoint =
	    over(a->oauth2_authorize_endpoint, b->authorize_endpoint);
	out->scope = over(a->oauth2_scope, b->scope);
	out->trust_file = over(a->oauth2_trust_file, NULL);
	/* A generic provider's device grant is the default flow only when
	 * the account names a device endpoint. */
	if (!out->device_endpoint)
		out->device_default = false;
	return 0;
}

int
provider_client_secret(const struct account *a, struct secret *out,
                       struct error *err)
{
	struct secret_request r;

	memset(out, 0, sizeof *out);
	memset(&r, 0, sizeof r);
	/* The value before the command, as password before passwordeval;
	 * nothing else (no user given: no netrc, keyring or prompt). */
	r.password = a->oauth2_client_secret;
	r.passwordeval = a->oauth2_client_secret_eval;
	r.timeout_ms = a->passwordeval_timeout * 1000;
	r.eval_key = "oauth2_client_secret_eval";
	r.system = a->hidden;
	if (secret_configured(&r) == SECRET_NONE)
		return 0;
	if (secret_get(&r, out, err) < 0)
		return conf_hide(a, err);
	return 0;
}
