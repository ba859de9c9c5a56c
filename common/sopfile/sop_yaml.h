// Writing an SOP as an SOP file (sop_file.h) in YAML: what `sopctl draft`
// prints, for the author to edit and `sopctl apply`.
#ifndef SOPSIDEBAR_COMMON_SOPFILE_SOP_YAML_H_
#define SOPSIDEBAR_COMMON_SOPFILE_SOP_YAML_H_

#include <string>

#include "sopsidebar/v1/sop.pb.h"

namespace sopsidebar {

// `sop` as block-style YAML in the proto JSON mapping with proto field
// names (plain keys), fields in field order, every text double-quoted (so a value such
// as "75" or "true" stays text) and numbers, bools and nulls plain.
// ParseSopFile reads it back to a message equal to `sop` (output-only
// fields included, as written). Thread-safe (pure).
std::string SopToYaml(const v1::Sop& sop);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_COMMON_SOPFILE_SOP_YAML_H_
