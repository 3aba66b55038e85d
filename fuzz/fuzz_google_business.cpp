// fuzz_google_business: the Google Business Profile connector on hostile API answers (see
// fuzz/connector_target.h). Mode bit 0: an access-token file, or the OAuth refresh flow (the
// first scripted answer then goes to the token endpoint).
#include "fuzz/connector_target.h"

REPWATCH_FUZZ_TARGET(google_business) {
  if (size == 0) return 0;
  const bool oauth = data[0] & 1;
  std::string source =
      "type = \"google_business\"\naccount_id = \"1170032\"\nbusiness_location_id = \"4411\"\n"
      "base_url = \"@BASE@\"\nmax_pages = 4\npage_size = 50\n";
  source += oauth ? "client_id = \"cid.apps.googleusercontent.com\"\n"
                    "client_secret_file = \"@DIR@/client-secret\"\n"
                    "refresh_token_file = \"@DIR@/refresh-token\"\n"
                    "token_endpoint = \"@BASE@/token\"\n"
                  : "access_token_file = \"@DIR@/token\"\n";
  // Pages plus token requests (one refresh before, one on a 401) and one 401 retry.
  return repwatch::fuzz::run_connector(source, as_text(data + 1, size - 1), 4 + 4);
}
