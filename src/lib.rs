//! cordon: a permission profile turned into the host's native sandbox, then
//! exec. The pipeline (contract §1), one module per stage:
//! [`policy`] (parse) -> [`plan`] (resolve) -> backends [`linux`] /
//! [`seatbelt`] (compile, then apply) -> [`sandbox`] (the apply edge) -> [`cli`].
//! What a backend enforces and what it cannot is said in [`enforcement`]'s
//! words, which every stage above the backends reads.

pub mod cli;
pub mod enforcement;
pub mod error;
pub mod exec;
pub mod fdlimit;
pub mod linux;
pub mod plan;
pub mod policy;
pub mod proxy;
pub mod sandbox;
pub mod seatbelt;
pub mod skill;
pub mod stdio;
pub mod trace;
pub mod view;
