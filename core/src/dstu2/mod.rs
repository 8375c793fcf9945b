//! FHIR DSTU2 resources of GP Connect Access Record HTML 0.7.4 (in progress).
