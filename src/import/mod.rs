//! Converting posts written for other tools into crier posts (`crier import`).

pub mod devto;
