// fuzz_yelp: the Yelp Fusion connector on hostile API answers (see fuzz/connector_target.h);
// two locales, so two requests per poll.
#include "fuzz/connector_target.h"

REPWATCH_FUZZ_TARGET(yelp) {
  if (size == 0) return 0;
  std::string source =
      "type = \"yelp\"\nbusiness_id = \"cl\\u00ednica-dental-san-jose\"\n"
      "api_key_file = \"@DIR@/token\"\nbase_url = \"@BASE@\"\n";
  source += (data[0] & 1) ? "locales = [\"en_US\", \"es_US\"]\n" : "";
  return repwatch::fuzz::run_connector(source, as_text(data + 1, size - 1), 4);
}
