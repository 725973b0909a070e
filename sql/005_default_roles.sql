-- The default roles (docs/roles.md). A scope that some role lists is granted only to users and clients that
-- hold such a role; the others stay governed by the client's registration alone. Existing roles of the same
-- name are left as they are, so an operator's changes survive.
INSERT INTO roles (name, description, scopes) VALUES
    ('admin', 'Operators of this Tessera: the admin API requires this role and the tessera:admin scope, '
              'which no one else can be granted', '{tessera:admin}'),
    ('user',  'A person with ordinary access: lists no scope of its own; add the scopes every user should get '
              '(tessera apply), and APIs may check the role name in the roles claim', '{}'),
    ('guest', 'Least privilege: lists no scope and should never be given one, so APIs can refuse guests by role',
              '{}')
ON CONFLICT (name) DO NOTHING;
