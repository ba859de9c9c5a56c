// The field maps sopd ships: the standard fields of Salesforce Leads,
// Contacts and Opportunities and of HubSpot contacts and deals
// (../shared/guide/CRM-FIELDS.md), plus the custom fields the example SOPs
// (examples/sops) target, named as a Salesforce admin would name them.
// An org replaces a map with UpdateFieldMap (`sopctl fieldmap set`).
#include "common/model/names.h"
#include "server/domain/crm/crm_maps.h"

namespace sopsidebar {
namespace {

struct Entry {
  const char* crm_field;
  const char* field;
  v1::FieldType type;
};

constexpr v1::FieldType kText = v1::FIELD_TYPE_STRING;
constexpr v1::FieldType kNumber = v1::FIELD_TYPE_NUMBER;
constexpr v1::FieldType kTime = v1::FIELD_TYPE_TIMESTAMP;

constexpr Entry kSalesforce[] = {
    {"Status", "lead_status", kText},
    {"LeadSource", "lead_source", kText},
    {"Rating", "rating", kText},
    {"Industry", "industry", kText},
    {"NumberOfEmployees", "company_size", kNumber},
    {"AnnualRevenue", "annual_revenue", kNumber},
    {"Title", "title", kText},
    {"Country", "country", kText},
    {"State", "region", kText},
    {"OwnerId", "owner_id", kText},
    {"CreatedDate", "created_at", kTime},
    {"LastModifiedDate", "last_modified_at", kTime},
    {"ActionCadenceState", "cadence_state", kText},
    {"StageName", "stage_name", kText},
    {"Amount", "amount", kNumber},
    {"MQL_Score__c", "lead_score", kNumber},
    {"Status_Changed_At__c", "status_changed_at", kTime},
    {"Cadence_Touches_Completed__c", "cadence_touches_completed", kNumber},
    {"Disqualification_Code__c", "disqualification_code", kText},
    {"Discount_Percent__c", "discount_percent", kNumber},
    {"Discount_Approval_Status__c", "discount_approval_status", kText},
};

constexpr Entry kHubSpot[] = {
    {"hs_lead_status", "lead_status", kText},
    {"lifecyclestage", "lifecyclestage", kText},
    {"hs_analytics_source", "lead_source", kText},
    {"hubspotscore", "lead_score", kNumber},
    {"numberofemployees", "company_size", kNumber},
    {"jobtitle", "title", kText},
    {"industry", "industry", kText},
    {"country", "country", kText},
    {"hubspot_owner_id", "owner_id", kText},
    {"createdate", "created_at", kTime},
    {"lastmodifieddate", "last_modified_at", kTime},
    {"dealstage", "stage_name", kText},
    {"amount", "amount", kNumber},
};

// HubSpot names objects by type id: contacts (0-1) are worked as leads,
// deals (0-3) as opportunities.
constexpr std::pair<const char*, const char*> kHubSpotObjects[] = {
    {"0-1", "Lead"}, {"contact", "Lead"}, {"0-3", "Opportunity"}, {"deal", "Opportunity"}};

template <size_t N>
void AddFields(const Entry (&entries)[N], v1::FieldMap* map) {
  for (const Entry& e : entries) {
    v1::FieldMapEntry* entry = map->add_fields();
    entry->set_crm_field(e.crm_field);
    entry->set_field(e.field);
    entry->set_type(e.type);
  }
}

}  // namespace

v1::FieldMap DefaultFieldMap(absl::string_view org, absl::string_view crm) {
  v1::FieldMap map;
  map.set_name(CrmMapFullName(org, kFieldMaps, crm));
  map.set_is_default(true);
  if (crm == "salesforce") {
    AddFields(kSalesforce, &map);
  } else if (crm == "hubspot") {
    AddFields(kHubSpot, &map);
    for (const auto& [object, type] : kHubSpotObjects) {
      v1::RecordTypeMapEntry* entry = map.add_record_types();
      entry->set_crm_object(object);
      entry->set_record_type(type);
    }
  }
  return map;
}

}  // namespace sopsidebar
