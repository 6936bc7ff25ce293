-- One database per Momentum service on the one PostgreSQL server of docker-compose.yml.
-- Mounted into /docker-entrypoint-initdb.d: the postgres image runs it once, as POSTGRES_USER (who then
-- owns every database), when it initialises an empty data directory; it never runs again on an existing
-- volume. The services create their schema and tables themselves (migrations at start-up).
-- The names match the <SERVICE>_DATABASE_URL values in docker-compose.yml. "order" is a reserved word.
-- "gateway" holds the rate-limit counters the gateways share; on a volume made before it existed, create it
-- once by hand: docker-compose exec postgres createdb -U momentum gateway
CREATE DATABASE gateway;
CREATE DATABASE identity;
CREATE DATABASE catalog;
CREATE DATABASE inventory;
CREATE DATABASE cart;
CREATE DATABASE "order";
CREATE DATABASE payment;
CREATE DATABASE notification;
