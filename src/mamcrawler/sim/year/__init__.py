"""`mamcrawler sim year`: a year on the account, simulated, with the real services and
policies against a simulated tracker and qBittorrent; see `run.run_year`."""
