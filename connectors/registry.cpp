#include <string>

#include "connectors/connector.h"
#include "connectors/facebook.h"
#include "connectors/file_connector.h"
#include "connectors/google_business.h"
#include "connectors/google_places.h"
#include "connectors/json_http.h"
#include "connectors/yelp.h"

namespace repwatch::connectors {

const std::map<std::string, ConnectorFactory>& registry() {
  static const std::map<std::string, ConnectorFactory> table = {
      {"file", make_file_connector},
      {"google_business", make_google_business_connector},
      {"google_places", make_google_places_connector},
      {"yelp", make_yelp_connector},
      {"facebook", make_facebook_connector},
      {"json_http", make_json_http_connector},
  };
  return table;
}

std::unique_ptr<Connector> make_connector(const SourceConfig& source, const Config& config) {
  const auto& table = registry();
  auto it = table.find(source.type);
  if (it == table.end()) {
    std::string known;
    for (const auto& [name, _] : table) known += (known.empty() ? "" : ", ") + name;
    source.settings.fail("type",
                         "unknown source type \"" + source.type + "\" (known: " + known + ")");
  }
  return it->second(source, config);
}

}  // namespace repwatch::connectors
