//! Public-key and signature formats that entry kinds reference: each yields
//! a canonical byte form (hashed into a key) and a list of subjects.
