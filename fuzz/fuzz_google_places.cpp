// fuzz_google_places: the Google Places (New) connector on hostile API answers (see
// fuzz/connector_target.h).
#include "fuzz/connector_target.h"

REPWATCH_FUZZ_TARGET(google_places) {
  if (size == 0) return 0;
  std::string source =
      "type = \"google_places\"\nplace_id = \"ChIJN1t_tDeuEmsRUsoyG83frY4\"\n"
      "api_key_file = \"@DIR@/token\"\nbase_url = \"@BASE@\"\n";
  if (data[0] & 1) source += "language_code = \"es\"\nregion_code = \"us\"\n";
  return repwatch::fuzz::run_connector(source, as_text(data + 1, size - 1), 2);
}
