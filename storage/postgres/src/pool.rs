//! The connection pool: [`r2d2`] over blocking [`postgres::Client`]s, each
//! with its own cache of prepared statements.
//!
//! The manager is ours rather than `r2d2_postgres`'s only to keep that
//! cache beside each connection: every statement the store runs is a
//! `&'static str`, prepared once per connection and then executed with a
//! single round trip instead of two (parse, then bind and execute).

use std::collections::HashMap;

use postgres::types::ToSql;
use postgres::{Client, Config, GenericClient, NoTls, Row, Statement};

/// A pooled connection and its prepared statements.
pub(crate) struct Conn {
    pub client: Client,
    pub statements: HashMap<&'static str, Statement>,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("closed", &self.client.is_closed())
            .field("statements", &self.statements.len())
            .finish()
    }
}

/// Opens connections with one configuration.
#[derive(Debug)]
pub(crate) struct Manager {
    pub config: Config,
}

/// A failure to open or validate a connection, displayed with its causes
/// (r2d2 keeps only the message of the last one, and `postgres::Error`
/// alone says "error connecting to server" without why).
#[derive(Debug)]
pub struct ConnectError(postgres::Error);

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = std::error::Error::source(&self.0);
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}

impl std::error::Error for ConnectError {}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = ConnectError;

    fn connect(&self) -> Result<Conn, ConnectError> {
        Ok(Conn {
            client: self.config.connect(NoTls).map_err(ConnectError)?,
            statements: HashMap::new(),
        })
    }

    /// Not run on checkout (the pool is built without `test_on_check_out`,
    /// which would cost every command a round trip); r2d2 uses it only for
    /// connections it checks on its own.
    fn is_valid(&self, conn: &mut Conn) -> Result<(), ConnectError> {
        conn.client.simple_query("").map(drop).map_err(ConnectError)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.client.is_closed()
    }
}

/// A client (a connection or a transaction on it) with the connection's
/// statement cache.
pub(crate) struct Db<'a, C: GenericClient> {
    pub client: &'a mut C,
    pub statements: &'a mut HashMap<&'static str, Statement>,
}

impl<C: GenericClient> Db<'_, C> {
    fn statement(&mut self, sql: &'static str) -> Result<Statement, postgres::Error> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql)?;
        self.statements.insert(sql, s.clone());
        Ok(s)
    }

    pub fn query(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, postgres::Error> {
        let s = self.statement(sql)?;
        self.client.query(&s, params)
    }

    pub fn query_opt(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, postgres::Error> {
        let s = self.statement(sql)?;
        self.client.query_opt(&s, params)
    }

    pub fn execute(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, postgres::Error> {
        let s = self.statement(sql)?;
        self.client.execute(&s, params)
    }
}
