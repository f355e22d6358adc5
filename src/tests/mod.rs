//! Tests of the committed files Airbyte's tooling reads (the spec form, the sample inputs),
//! checked against the code that produces or reads them.

mod integration_samples;
mod layering;
mod spec_form;
