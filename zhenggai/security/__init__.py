"""What keeps guessing, floods and bad input from hurting the campaign: throttles on receipt
look-ups and log-ins, a cap on concurrent argon2 work, the client's address behind a trusted
proxy, security headers, and logging that never writes a secret."""
