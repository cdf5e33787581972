//! The CoNDIS call-manager face: address family, SAP, call and party objects.
