//! FHIR STU3 resources of GP Connect Foundations and Appointment Management 1.2.9 (in progress).
