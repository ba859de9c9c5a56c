// Which fields of the record the panel sends to sopd, and how it reads them from getRecord's data.
// sopd maps these Salesforce API names onto the names its SOP rules use with the org's field map
// (`sopctl fieldmap get salesforce`), so a field missing here is a field no rule can see.

export const DEFAULT_FIELDS = {
    Lead: [
        'Status',
        'LeadSource',
        'Rating',
        'Industry',
        'NumberOfEmployees',
        'AnnualRevenue',
        'Title',
        'Country',
        'IsConverted',
        'OwnerId',
        'CreatedDate',
        'LastModifiedDate'
    ],
    Contact: ['Title', 'Department', 'LeadSource', 'MailingCountry', 'OwnerId', 'CreatedDate', 'LastModifiedDate'],
    Opportunity: [
        'StageName',
        'Amount',
        'Probability',
        'Type',
        'LeadSource',
        'ForecastCategoryName',
        'CloseDate',
        'LastStageChangeDate',
        'OwnerId',
        'CreatedDate',
        'LastModifiedDate'
    ]
};

/** Field API names from the design property ("Status, NumberOfEmployees"), else the object's defaults. */
export function fieldNames(objectApiName, configured) {
    const names = (configured ?? '')
        .split(/[\s,;]+/)
        .map((s) => s.trim())
        .filter((s) => s !== '');
    const list = names.length > 0 ? names : (DEFAULT_FIELDS[objectApiName] ?? []);
    return [...new Set(list)];
}

/**
 * getRecord's optionalFields: qualified names ("Lead.Status"). Optional, so a field the org does
 * not have or the user may not read is left out of the record instead of failing the wire.
 */
export function optionalFields(objectApiName, configured) {
    if (!objectApiName) return [];
    return fieldNames(objectApiName, configured).map((f) => `${objectApiName}.${f}`);
}

/** The record's field values by API name, in the order asked for; absent fields are skipped. */
export function recordFields(record, names) {
    const fields = {};
    for (const name of names) {
        const field = record?.fields?.[name];
        if (field !== undefined) fields[name] = field.value;
    }
    return fields;
}
