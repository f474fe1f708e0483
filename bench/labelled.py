"""A labelled near-duplicate set: generated news stories, their syndicated copies, hard negatives.

`build(seed)` returns about 270 articles in English, French, Spanish and German, all generated
here from templates and vocabularies (fictional people, no copied text), the same for the same
seed, without network. Each article carries its story id: two articles are the same story
(a true pair) when their story ids are equal.

- **Originals**: per language, 10 events (a climate summit in Geneva, a rail strike in Lyon, a
  storm near Bilbao, ...), and 3 to 5 different stories about each event. Stories about one
  event are the hard negatives: they share the event's people, places, issue phrases and
  template phrases, most of them share the event's background paragraph (as agency stories do
  from one update to the next), and many share the same official quote. Each story has its own
  "voice" (half of the language's word swaps applied), so two stories built on one template do
  not share all its fixed words. Agreement in gender and number is approximate: the texts are
  made for shingle statistics, not for reading.
- **Syndicated copies**: some originals are republished by one to three outlets. Each outlet has
  its own fixed boilerplate (a header line, a newsletter or copyright line, "Read more:" links)
  and dateline style; a copy also gets a random mix of a new headline, a sentence added, a
  sentence cut, a few words changed, two paragraphs swapped, and truncation to its first
  paragraphs (35-80 % of them). Copies of different stories by the same outlet share that
  outlet's boilerplate: another kind of hard negative.
- **Short pages**: video pages with a caption only, built on one template per language. They are
  separate stories: near-identical templates that must never cluster.

Run `python bench/labelled.py [--seed N] [--json FILE]` to print a summary or write the set.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

DEFAULT_SEED = 20261124
EVENTS_PER_LANGUAGE = 10
STORM_NAMES = ["Ciarán", "Bella", "Dora", "Emil", "Fiona", "Gerrit", "Hanna", "Isak"]

# Per language: people (name, role), places, organisations, phrase pools, six kinds of event
# (name, short name, issues, actions, unit), sentence templates, background and quote templates,
# headlines, outlet boilerplate, datelines, word swaps, added sentences, the video caption.
LANGUAGES: dict[str, dict[str, Any]] = {
    "en": {
        "people": [("Maria Lindqvist", "the foreign minister"), ("David Okafor", "the prime minister"),
                   ("Helen Marsh", "the government spokesperson"), ("Tomas Berger", "the union leader"),
                   ("Aisha Rahman", "the mayor"), ("Peter Novak", "the finance minister"),
                   ("Laura Chen", "the regional governor"), ("Samuel Adeyemi", "the chief executive"),
                   ("Grace Whitfield", "the presiding judge"), ("Omar Haddad", "the opposition leader"),
                   ("Julia Brandt", "the environment minister"), ("Martin Sousa", "the interior minister")],
        "cities": ["Geneva", "Nairobi", "Lisbon", "Jakarta", "Montreal", "Oslo", "Santiago", "Warsaw",
                   "Accra", "Manila"],
        "orgs": ["the United Nations", "the European Commission", "the World Bank", "the interior ministry",
                 "the national weather service", "the rail operator", "the constitutional court",
                 "the central bank"],
        "days": ["on Monday", "on Tuesday", "on Wednesday", "on Thursday", "on Friday", "on Saturday",
                 "on Sunday"],
        "said": ["said", "told reporters", "stated", "insisted", "stressed"],
        "months": ["January", "February", "March", "April", "May", "June", "July", "September", "October",
                   "November", "December"],
        "adj_state": ["constructive", "difficult", "tense", "productive", "painfully slow"],
        "adj_mood": ["calm", "tense", "hopeful", "chaotic"],
        "adj_eval": ["a step forward", "insufficient", "unacceptable", "a good basis"],
        "events": [
            ("the climate summit in {city}", "the summit",
             ["carbon emissions", "climate finance", "the coal phase-out", "adaptation funding",
              "forest protection", "methane targets"],
             ["cut emissions faster", "double climate finance", "publish new targets",
              "support poorer countries", "close coal power plants", "protect tropical forests"], "delegates"),
            ("Storm {storm} near {city}", "the storm",
             ["power outages", "flood defences", "evacuation plans", "damaged roads", "emergency shelters",
              "insurance claims"],
             ["restore power", "reopen the main roads", "evacuate coastal areas", "release emergency funds",
              "inspect the dams", "rebuild damaged homes"], "households"),
            ("the rail strike in {city}", "the strike",
             ["wages", "the pension reform", "working hours", "staff shortages", "safety rules",
              "ticket prices"],
             ["raise wages", "resume negotiations", "restore train services", "hire more staff",
              "review the pension plan", "end the walkout"], "passengers"),
            ("the regional election in {city}", "the election",
             ["housing costs", "public transport", "immigration", "local taxes", "healthcare", "unemployment"],
             ["build more affordable housing", "lower local taxes", "expand public transport",
              "hire more nurses", "recount the ballots", "form a coalition"], "voters"),
            ("the corruption trial in {city}", "the trial",
             ["public contracts", "the missing funds", "witness testimony", "the defence strategy",
              "bribery allegations", "the appeal"],
             ["hear new witnesses", "release the documents", "postpone the verdict", "freeze the accounts",
              "investigate the contracts", "appeal the ruling"], "documents"),
            ("the merger of two carmakers in {city}", "the merger",
             ["job cuts", "market share", "electric vehicles", "factory closures", "shareholder approval",
              "competition rules"],
             ["protect jobs", "approve the deal", "invest in electric cars", "keep all factories open",
              "sell the truck division", "cut costs"], "workers"),
        ],
        "sentences": [
            "{p}, {r}, {said} {day} that {org} would {action} before {month}.",
            "Speaking to reporters in {city}, {p} said the talks on {issue} had been {adj_state}.",
            "According to {org}, more than {num} {unit} have been affected so far.",
            "{Short} is expected to focus on {issue} and {issue2}, officials said.",
            "Critics argue that {org} has done too little to {action}.",
            "{p} {said} that {issue} remained the main obstacle to an agreement.",
            "{Day}, several hundred people gathered outside the building to demand action on {issue}.",
            "The latest figures show an increase of {pct} percent compared with last year.",
            "{p} did not rule out further measures if the situation around {issue} worsened.",
            "A spokesperson for {org} declined to comment on the details of {issue}.",
            "Observers in {city} described the atmosphere as {adj_mood}.",
            "The government has promised to {action} by {month}, but few details have been released.",
            "In a joint statement, the participants pledged to {action}.",
            "{p} is due to meet representatives of the sector {day} to discuss {issue}.",
            "Analysts said {short} could shape the debate on {issue} for years.",
            "Earlier this year, {org} warned that {issue} could cost up to {num} million euros.",
            "Local media in {city} reported that talks on {issue2} continued late into the night.",
            "It was not immediately clear whether {p2} would attend the final session.",
            "{p} called the proposal on {issue} {adj_eval} and urged the government to {action}.",
            "A decision on {issue} is expected {day} at the latest.",
            "{p2}, {r2}, said {org} had received {num} complaints about {issue2}.",
            "Some {unit} said they had waited {small} hours for information about {issue}.",
        ],
        "background": ["{Short} in {city} brings together {num} {unit} from across the region.",
                       "It comes after months of disagreement over {issue} and {issue2}.",
                       "Pressure on {org} has been growing since the start of the year."],
        "quote": "\"We cannot afford to wait any longer on {issue},\" {p} said.",
        "headlines": ["{p} urges action on {issue}", "{Short}: talks on {issue} stall in {city}",
                      "{num} {unit} affected as {short} continues", "{p} warns over {issue}",
                      "What we know about {short} in {city}", "{Org} pledges to {action}"],
        "outlet_top": ["Advertisement", "Listen to this article", "This article is published by our partner agency."],
        "outlet_more": ["Read more: {headline}", "Also read: {headline}", "Related: {headline}"],
        "outlet_end": ["© 2026 AFP. All rights reserved.",
                       "Sign up for our morning newsletter to get the top stories in your inbox.",
                       "Follow us on social media for the latest updates.",
                       "Read the full story on our partner's website."],
        "datelines": ["(AFP) - ", "{CITY} (Reuters) - ", "{city} (AP) - "],
        "swaps": {"said": "stated", "several": "some", "expected": "set", "officials": "authorities",
                  "talks": "negotiations", "promised": "pledged", "warned": "cautioned", "increase": "rise",
                  "demand": "call for", "main": "biggest", "details": "specifics", "critics": "opponents"},
        "extra": ["This story has been updated with additional reactions.",
                  "{p} is expected to hold a press conference later {day}.",
                  "Our correspondent in {city} said the mood was {adj_mood}."],
        "caption": ("Video: {headline}. Footage shows the scene in {city} {day}. Subscribe to our channel "
                    "for more videos. The video player is loading, please wait."),
    },
    "fr": {
        "people": [("Marie Dubois", "ministre des Affaires étrangères"), ("Jean-Luc Martin", "Premier ministre"),
                   ("Sophie Laurent", "porte-parole du gouvernement"), ("Karim Benali", "secrétaire général du syndicat"),
                   ("Claire Moreau", "présidente de la région"), ("Antoine Girard", "ministre de l'Économie"),
                   ("Nadia Haddad", "maire de la ville"), ("Luc Fontaine", "directeur général du groupe"),
                   ("Isabelle Roux", "présidente du tribunal"), ("Paul Lefèvre", "chef de l'opposition"),
                   ("Élodie Petit", "ministre de la Transition écologique"), ("Thomas Mercier", "préfet de la région")],
        "cities": ["Lyon", "Marseille", "Bordeaux", "Lille", "Nantes", "Strasbourg", "Toulouse", "Dakar",
                   "Montréal", "Genève"],
        "orgs": ["l'Union européenne", "la Commission européenne", "le ministère de l'Intérieur", "Météo-France",
                 "la SNCF", "le Conseil constitutionnel", "l'Organisation mondiale de la santé", "la Banque de France"],
        "days": ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
        "said": ["a déclaré", "a affirmé", "a indiqué", "a assuré", "a souligné"],
        "months": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "septembre", "octobre",
                   "novembre", "décembre"],
        "adj_state": ["constructives", "difficiles", "tendues", "productives", "très lentes"],
        "adj_mood": ["calme", "tendue", "pleine d'espoir", "chaotique"],
        "adj_eval": ["d'avancée", "d'insuffisante", "d'inacceptable", "de bonne base"],
        "events": [
            ("le sommet sur le climat de {city}", "le sommet",
             ["les émissions de carbone", "le financement climatique", "la sortie du charbon",
              "l'adaptation des pays pauvres", "la protection des forêts", "les objectifs sur le méthane"],
             ["réduire plus vite les émissions", "doubler le financement climatique", "publier de nouveaux objectifs",
              "soutenir les pays les plus pauvres", "fermer les centrales à charbon", "protéger les forêts tropicales"],
             "délégués"),
            ("la tempête {storm} près de {city}", "la tempête",
             ["les coupures d'électricité", "les digues", "les plans d'évacuation", "les routes endommagées",
              "les hébergements d'urgence", "l'indemnisation des assurés"],
             ["rétablir le courant", "rouvrir les grands axes", "évacuer les zones côtières",
              "débloquer des fonds d'urgence", "inspecter les barrages", "reconstruire les maisons détruites"],
             "foyers"),
            ("la grève des cheminots à {city}", "la grève",
             ["les salaires", "la réforme des retraites", "le temps de travail", "le manque de personnel",
              "les règles de sécurité", "le prix des billets"],
             ["augmenter les salaires", "reprendre les négociations", "rétablir le trafic", "embaucher du personnel",
              "revoir le projet de retraites", "mettre fin au mouvement"], "voyageurs"),
            ("les élections régionales à {city}", "le scrutin",
             ["le coût du logement", "les transports publics", "l'immigration", "les impôts locaux", "la santé",
              "le chômage"],
             ["construire des logements abordables", "baisser les impôts locaux", "développer les transports publics",
              "recruter des infirmiers", "recompter les bulletins", "former une coalition"], "électeurs"),
            ("le procès pour corruption à {city}", "le procès",
             ["les marchés publics", "les fonds disparus", "les témoignages", "la stratégie de la défense",
              "les soupçons de pots-de-vin", "l'appel"],
             ["entendre de nouveaux témoins", "publier les documents", "reporter le verdict", "geler les comptes",
              "enquêter sur les contrats", "faire appel de la décision"], "pièces"),
            ("la fusion de deux constructeurs automobiles à {city}", "la fusion",
             ["les suppressions d'emplois", "les parts de marché", "les voitures électriques",
              "les fermetures d'usines", "l'accord des actionnaires", "les règles de concurrence"],
             ["préserver les emplois", "approuver l'accord", "investir dans l'électrique",
              "garder toutes les usines ouvertes", "vendre la division poids lourds", "réduire les coûts"],
             "salariés"),
        ],
        "sentences": [
            "{p}, {r}, {said} {day} que {org} allait {action} avant {month}.",
            "Devant la presse à {city}, {p} {said} que les discussions sur {issue} avaient été {adj_state}.",
            "Selon {org}, plus de {num} {unit} sont concernés à ce stade.",
            "{Short} doit se concentrer sur {issue} et {issue2}, selon des responsables.",
            "Les critiques estiment que {org} n'a pas fait assez pour {action}.",
            "{p} {said} que {issue} restait le principal obstacle à un accord.",
            "{Day}, plusieurs centaines de personnes se sont rassemblées devant le bâtiment pour réclamer des mesures sur {issue}.",
            "Les derniers chiffres montrent une hausse de {pct} % par rapport à l'an dernier.",
            "{p} n'a pas exclu de nouvelles mesures si la situation concernant {issue} se dégradait.",
            "Un porte-parole a refusé de commenter les détails concernant {issue}.",
            "Les observateurs sur place à {city} décrivent une atmosphère {adj_mood}.",
            "Le gouvernement a promis de {action} d'ici {month}, sans donner beaucoup de détails.",
            "Dans une déclaration commune, les participants se sont engagés à {action}.",
            "{p} doit rencontrer {day} des représentants du secteur pour évoquer {issue}.",
            "Pour les analystes, {short} pourrait peser durablement sur le débat concernant {issue}.",
            "Plus tôt cette année, {org} avait averti que {issue} pourrait coûter jusqu'à {num} millions d'euros.",
            "Selon la presse locale à {city}, les discussions sur {issue2} se sont poursuivies tard dans la nuit.",
            "On ignorait dans l'immédiat si {p2} participerait à la séance finale.",
            "{p} a qualifié la proposition concernant {issue} {adj_eval} et a appelé le gouvernement à {action}.",
            "Une décision concernant {issue} est attendue au plus tard {day}.",
            "{p2}, {r2}, a indiqué que {org} avait reçu {num} plaintes concernant {issue2}.",
            "Certains {unit} disent avoir attendu {small} heures pour obtenir des informations sur {issue}.",
        ],
        "background": ["{Short} de {city} réunit {num} {unit} venus de toute la région.",
                       "Cette échéance intervient après des mois de désaccord sur {issue} et {issue2}.",
                       "Depuis le début de l'année, la pression ne cesse de monter sur {org}."],
        "quote": "« Nous ne pouvons plus attendre sur {issue} », a déclaré {p}.",
        "headlines": ["{p} appelle à agir sur {issue}", "{Short} : les discussions sur {issue} s'enlisent à {city}",
                      "{num} {unit} touchés, {short} se poursuit", "{p} met en garde sur {issue}",
                      "Ce que l'on sait sur {short} à {city}", "{Org} promet de {action}"],
        "outlet_top": ["Publicité", "Écouter cet article", "Article publié par notre agence partenaire."],
        "outlet_more": ["Lire aussi : {headline}", "À lire aussi : {headline}", "Sur le même sujet : {headline}"],
        "outlet_end": ["© 2026 AFP. Tous droits réservés.",
                       "Inscrivez-vous à notre newsletter pour recevoir chaque matin l'essentiel de l'actualité.",
                       "Suivez-nous sur les réseaux sociaux pour ne rien manquer.",
                       "Retrouvez l'article complet sur le site de notre partenaire."],
        "datelines": ["(AFP) - ", "{CITY} (AFP) - ", "{city} (Reuters) - "],
        "swaps": {"plusieurs": "quelques", "hausse": "augmentation", "discussions": "négociations",
                  "promis": "assuré", "responsables": "officiels", "principal": "premier", "atmosphère": "ambiance",
                  "critiques": "détracteurs", "nouvelles": "autres", "refusé": "décliné", "réclamer": "exiger"},
        "extra": ["Cet article a été mis à jour avec de nouvelles réactions.",
                  "{p} doit tenir une conférence de presse {day}.",
                  "Notre correspondant à {city} décrit une ambiance {adj_mood}."],
        "caption": ("Vidéo : {headline}. Les images ont été tournées à {city} {day}. Abonnez-vous à notre chaîne "
                    "pour plus de vidéos. Le lecteur vidéo est en cours de chargement."),
    },
    "es": {
        "people": [("María González", "ministra de Asuntos Exteriores"), ("Javier Ruiz", "presidente del Gobierno"),
                   ("Lucía Fernández", "portavoz del Gobierno"), ("Carlos Méndez", "secretario general del sindicato"),
                   ("Ana Torres", "alcaldesa de la ciudad"), ("Pablo Navarro", "ministro de Economía"),
                   ("Elena Castro", "presidenta regional"), ("Diego Romero", "consejero delegado del grupo"),
                   ("Marta Vidal", "presidenta del tribunal"), ("Raúl Ortega", "líder de la oposición"),
                   ("Sofía Herrera", "ministra de Transición Ecológica"), ("Andrés Molina", "delegado del Gobierno")],
        "cities": ["Madrid", "Sevilla", "Valencia", "Bilbao", "Zaragoza", "Málaga", "Bogotá", "Lima", "Santiago",
                   "Quito"],
        "orgs": ["la Unión Europea", "la Comisión Europea", "el Ministerio del Interior",
                 "la Agencia Estatal de Meteorología", "Renfe", "el Tribunal Supremo",
                 "la Organización Mundial de la Salud", "el Banco de España"],
        "days": ["el lunes", "el martes", "el miércoles", "el jueves", "el viernes", "el sábado", "el domingo"],
        "said": ["dijo", "afirmó", "aseguró", "señaló", "subrayó"],
        "months": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "septiembre", "octubre",
                   "noviembre", "diciembre"],
        "adj_state": ["constructivas", "difíciles", "tensas", "productivas", "muy lentas"],
        "adj_mood": ["tranquilo", "tenso", "esperanzador", "caótico"],
        "adj_eval": ["avance", "insuficiente", "inaceptable", "buena base"],
        "events": [
            ("la cumbre del clima de {city}", "la cumbre",
             ["las emisiones de carbono", "la financiación climática", "el abandono del carbón",
              "la adaptación de los países pobres", "la protección de los bosques", "los objetivos sobre el metano"],
             ["reducir más rápido las emisiones", "duplicar la financiación climática", "publicar nuevos objetivos",
              "apoyar a los países más pobres", "cerrar las centrales de carbón", "proteger los bosques tropicales"],
             "delegados"),
            ("la borrasca {storm} cerca de {city}", "la borrasca",
             ["los cortes de electricidad", "los diques", "los planes de evacuación", "las carreteras dañadas",
              "los albergues de emergencia", "las indemnizaciones de los seguros"],
             ["restablecer la electricidad", "reabrir las carreteras principales", "evacuar las zonas costeras",
              "liberar fondos de emergencia", "inspeccionar las presas", "reconstruir las viviendas dañadas"],
             "hogares"),
            ("la huelga de maquinistas en {city}", "la huelga",
             ["los salarios", "la reforma de las pensiones", "la jornada laboral", "la falta de personal",
              "las normas de seguridad", "el precio de los billetes"],
             ["subir los salarios", "retomar las negociaciones", "restablecer los trenes", "contratar más personal",
              "revisar la reforma de las pensiones", "poner fin a los paros"], "pasajeros"),
            ("las elecciones autonómicas en {city}", "los comicios",
             ["el precio de la vivienda", "el transporte público", "la inmigración", "los impuestos locales",
              "la sanidad", "el desempleo"],
             ["construir vivienda asequible", "bajar los impuestos locales", "ampliar el transporte público",
              "contratar más enfermeros", "volver a contar los votos", "formar una coalición"], "votantes"),
            ("el juicio por corrupción en {city}", "el juicio",
             ["los contratos públicos", "los fondos desaparecidos", "los testimonios", "la estrategia de la defensa",
              "los presuntos sobornos", "el recurso"],
             ["escuchar a nuevos testigos", "publicar los documentos", "aplazar la sentencia",
              "congelar las cuentas", "investigar los contratos", "recurrir el fallo"], "documentos"),
            ("la fusión de dos fabricantes de automóviles en {city}", "la fusión",
             ["los despidos", "la cuota de mercado", "los coches eléctricos", "el cierre de fábricas",
              "la aprobación de los accionistas", "las normas de competencia"],
             ["proteger el empleo", "aprobar el acuerdo", "invertir en coches eléctricos",
              "mantener abiertas todas las fábricas", "vender la división de camiones", "reducir costes"],
             "trabajadores"),
        ],
        "sentences": [
            "{p}, {r}, {said} {day} que {org} iba a {action} antes de {month}.",
            "Ante la prensa en {city}, {p} {said} que las conversaciones sobre {issue} habían sido {adj_state}.",
            "Según {org}, más de {num} {unit} se han visto afectados hasta ahora.",
            "{Short} se centrará en {issue} y {issue2}, según fuentes oficiales.",
            "Los críticos sostienen que {org} ha hecho muy poco para {action}.",
            "{p} {said} que {issue} seguía siendo el principal obstáculo para un acuerdo.",
            "{Day}, varios cientos de personas se concentraron ante el edificio para exigir medidas sobre {issue}.",
            "Las últimas cifras muestran un aumento del {pct} % respecto al año pasado.",
            "{p} no descartó nuevas medidas si la situación en torno a {issue} empeoraba.",
            "Un portavoz declinó comentar los detalles sobre {issue}.",
            "Los observadores en {city} describieron un ambiente {adj_mood}.",
            "El Gobierno prometió {action} antes de {month}, aunque apenas dio detalles.",
            "En un comunicado conjunto, los participantes se comprometieron a {action}.",
            "{p} se reunirá {day} con representantes del sector para abordar {issue}.",
            "Para los analistas, {short} podría marcar durante años el debate sobre {issue}.",
            "A principios de año, {org} advirtió de que {issue} podría costar hasta {num} millones de euros.",
            "Según la prensa local de {city}, las conversaciones sobre {issue2} se prolongaron hasta altas horas de la noche.",
            "No estaba claro si {p2} asistiría a la sesión final.",
            "{p} calificó la propuesta sobre {issue} de {adj_eval} y pidió al Gobierno {action}.",
            "Se espera una decisión sobre {issue} a más tardar {day}.",
            "{p2}, {r2}, señaló que {org} había recibido {num} quejas sobre {issue2}.",
            "Algunos {unit} aseguran haber esperado {small} horas para obtener información sobre {issue}.",
        ],
        "background": ["{Short} de {city} reúne a {num} {unit} de toda la región.",
                       "La cita llega tras meses de desacuerdo sobre {issue} y {issue2}.",
                       "Desde principios de año, la presión sobre {org} no ha dejado de crecer."],
        "quote": "\"No podemos esperar más en lo que respecta a {issue}\", dijo {p}.",
        "headlines": ["{p} pide actuar sobre {issue}", "{Short}: se estancan las conversaciones sobre {issue} en {city}",
                      "{num} {unit} afectados mientras continúa {short}", "{p} advierte sobre {issue}",
                      "Lo que se sabe sobre {short} en {city}", "{Org} promete {action}"],
        "outlet_top": ["Publicidad", "Escuchar este artículo", "Artículo publicado por nuestra agencia asociada."],
        "outlet_more": ["Lea también: {headline}", "Más información: {headline}", "Relacionado: {headline}"],
        "outlet_end": ["© 2026 EFE. Todos los derechos reservados.",
                       "Suscríbase a nuestro boletín para recibir cada mañana las noticias más importantes.",
                       "Síganos en las redes sociales para no perderse nada.",
                       "Lea la noticia completa en la web de nuestro socio."],
        "datelines": ["(EFE) - ", "{CITY} (EFE) - ", "{city} (AFP) - "],
        "swaps": {"varios": "algunos", "aumento": "incremento", "conversaciones": "negociaciones",
                  "prometió": "aseguró", "principal": "mayor", "ambiente": "clima", "críticos": "detractores",
                  "nuevas": "otras", "declinó": "rehusó", "exigir": "reclamar", "detalles": "pormenores"},
        "extra": ["La noticia ha sido actualizada con nuevas reacciones.",
                  "{p} ofrecerá una rueda de prensa {day}.",
                  "Nuestro corresponsal en {city} describió un ambiente {adj_mood}."],
        "caption": ("Vídeo: {headline}. Las imágenes fueron grabadas en {city} {day}. Suscríbase a nuestro canal "
                    "para ver más vídeos. El reproductor de vídeo se está cargando."),
    },
    "de": {
        "people": [("Anna Keller", "Außenministerin"), ("Markus Weber", "Bundeskanzler"),
                   ("Julia Schneider", "Regierungssprecherin"), ("Stefan Hoffmann", "Gewerkschaftschef"),
                   ("Katrin Fischer", "Oberbürgermeisterin"), ("Thomas Becker", "Finanzminister"),
                   ("Sabine Wagner", "Ministerpräsidentin"), ("Michael Schulz", "Vorstandschef des Konzerns"),
                   ("Laura Braun", "Vorsitzende Richterin"), ("Jan Zimmermann", "Oppositionsführer"),
                   ("Petra Krüger", "Umweltministerin"), ("Felix Hartmann", "Innenminister")],
        "cities": ["Berlin", "Hamburg", "München", "Köln", "Frankfurt", "Leipzig", "Dresden", "Wien", "Zürich",
                   "Bremen"],
        "orgs": ["die Europäische Union", "die EU-Kommission", "das Innenministerium", "der Deutsche Wetterdienst",
                 "die Deutsche Bahn", "das Verfassungsgericht", "die Weltgesundheitsorganisation", "die Bundesbank"],
        "days": ["am Montag", "am Dienstag", "am Mittwoch", "am Donnerstag", "am Freitag", "am Samstag",
                 "am Sonntag"],
        "said": ["sagte", "erklärte", "betonte", "versicherte", "unterstrich"],
        "months": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "September", "Oktober",
                   "November", "Dezember"],
        "adj_state": ["konstruktiv", "schwierig", "angespannt", "produktiv", "äußerst zäh"],
        "adj_mood": ["ruhig", "angespannt", "hoffnungsvoll", "chaotisch"],
        "adj_eval": ["einen Fortschritt", "unzureichend", "inakzeptabel", "eine gute Grundlage"],
        "events": [
            ("der Klimagipfel in {city}", "der Gipfel",
             ["die CO2-Emissionen", "die Klimafinanzierung", "die Pläne für den Kohleausstieg",
              "die Anpassung ärmerer Länder", "die Waldschutzpläne", "die Methanziele"],
             ["die Emissionen schneller senken", "die Klimafinanzierung verdoppeln", "neue Klimaziele vorlegen",
              "ärmere Länder stärker unterstützen", "alle Kohlekraftwerke abschalten",
              "die Tropenwälder besser schützen"], "Delegierte"),
            ("Sturm {storm} bei {city}", "der Sturm",
             ["die Stromausfälle", "die Deiche", "die Evakuierungspläne", "die beschädigten Straßen",
              "die Notunterkünfte", "die Versicherungsschäden"],
             ["die Stromversorgung wiederherstellen", "die Hauptstraßen wieder öffnen", "die Küstengebiete räumen",
              "Nothilfen freigeben", "die Staudämme prüfen", "die zerstörten Häuser wieder aufbauen"],
             "Haushalte"),
            ("der Bahnstreik in {city}", "der Streik",
             ["die Löhne", "die Rentenreform", "die Arbeitszeiten", "die Personalnot", "die Sicherheitsregeln",
              "die Ticketpreise"],
             ["die Löhne erhöhen", "die Verhandlungen wieder aufnehmen", "den Zugverkehr wiederherstellen",
              "mehr Personal einstellen", "die Rentenpläne überarbeiten", "den Streik beenden"], "Fahrgäste"),
            ("die Landtagswahl in {city}", "die Wahl",
             ["die Wohnkosten", "die Verkehrspolitik", "die Migration", "die Gemeindesteuern",
              "die Gesundheitsversorgung", "die Arbeitslosigkeit"],
             ["mehr bezahlbare Wohnungen bauen", "die Gemeindesteuern senken", "den Nahverkehr ausbauen",
              "mehr Pflegekräfte einstellen", "die Stimmen neu auszählen", "eine Koalition bilden"], "Wähler"),
            ("der Korruptionsprozess in {city}", "der Prozess",
             ["die öffentlichen Aufträge", "die verschwundenen Gelder", "die Zeugenaussagen",
              "die Strategie der Verteidigung", "die Bestechungsvorwürfe", "die Berufung"],
             ["neue Zeugen anhören", "die Unterlagen veröffentlichen", "das Urteil vertagen", "die Konten einfrieren",
              "die Verträge prüfen", "Berufung einlegen"], "Akten"),
            ("die Fusion zweier Autobauer in {city}", "die Fusion",
             ["die Stellenstreichungen", "die Marktanteile", "die Elektroautos", "die Werksschließungen",
              "die Zustimmung der Aktionäre", "die Wettbewerbsregeln"],
             ["die Arbeitsplätze sichern", "den Deal genehmigen", "in Elektroautos investieren",
              "alle Werke offen halten", "die Lkw-Sparte verkaufen", "die Kosten senken"], "Beschäftigte"),
        ],
        "sentences": [
            "{p}, {r}, {said} {day}, {org} werde bis {month} {action}.",
            "Vor Journalisten in {city} {said} {p}, die Gespräche über {issue} seien {adj_state} gewesen.",
            "Mehr als {num} {unit} sind nach offiziellen Angaben bislang betroffen.",
            "{Short} soll sich vor allem um {issue} und {issue2} drehen, hieß es aus Regierungskreisen.",
            "Kritiker bemängeln, {org} könne nicht schnell genug {action}.",
            "Das größte Hindernis für eine Einigung bleibe der Streit über {issue}, {said} {p}.",
            "{Day} versammelten sich mehrere hundert Menschen vor dem Gebäude, um Klarheit über {issue} zu fordern.",
            "Nach den jüngsten Zahlen ergibt sich ein Anstieg um {pct} Prozent im Vergleich zum Vorjahr.",
            "{p} schloss weitere Schritte nicht aus, falls sich die Lage rund um {issue} verschärfen sollte.",
            "Ein Sprecher wollte sich zu Einzelheiten nicht äußern, auch nicht über {issue}.",
            "Beobachter in {city} beschrieben die Stimmung als {adj_mood}.",
            "Die Regierung versprach, bis {month} zu handeln, nannte aber kaum Einzelheiten.",
            "In einer gemeinsamen Erklärung kündigten die Teilnehmer an, sie wollten {action}.",
            "{p} will sich {day} mit Vertretern der Branche treffen, um über {issue} zu sprechen.",
            "Analysten zufolge könnte {short} die Debatte über {issue} noch jahrelang prägen.",
            "Bereits Anfang des Jahres hatte {org} gewarnt, die Folgen für {issue} könnten bis zu {num} Millionen Euro kosten.",
            "Lokale Medien in {city} berichteten, die Gespräche über {issue2} hätten bis spät in die Nacht gedauert.",
            "Ob {p2} an der Abschlusssitzung teilnimmt, war zunächst unklar.",
            "{p} nannte den Vorschlag für {issue} {adj_eval} und forderte, die Regierung müsse {action}.",
            "Eine Entscheidung über {issue} wird spätestens {day} erwartet.",
            "{p2}, {r2}, sagte, {org} habe {num} Beschwerden über {issue2} erhalten.",
            "Einige {unit} gaben an, {small} Stunden auf Informationen über {issue} gewartet zu haben.",
        ],
        "background": ["{Short} in {city} bringt {num} {unit} aus der ganzen Region zusammen.",
                       "Vorausgegangen waren monatelange Auseinandersetzungen über {issue} und {issue2}.",
                       "Seit Jahresbeginn wächst der Druck auf die Verantwortlichen in {city}."],
        "quote": "„Wir dürfen {issue} nicht länger aufschieben“, sagte {p}.",
        "headlines": ["{p} fordert Klarheit über {issue}", "{Short}: Gespräche über {issue} stocken in {city}",
                      "{num} {unit} betroffen, {short} geht weiter", "{p} mahnt Tempo an",
                      "{city}: Was bisher bekannt ist", "{Org} will {action}"],
        "outlet_top": ["Anzeige", "Artikel anhören", "Dieser Artikel wurde von unserer Partneragentur veröffentlicht."],
        "outlet_more": ["Lesen Sie auch: {headline}", "Mehr zum Thema: {headline}", "Auch interessant: {headline}"],
        "outlet_end": ["© 2026 dpa. Alle Rechte vorbehalten.",
                       "Abonnieren Sie unseren Newsletter, um jeden Morgen die wichtigsten Nachrichten zu erhalten.",
                       "Folgen Sie uns in den sozialen Netzwerken, um nichts zu verpassen.",
                       "Den vollständigen Artikel lesen Sie auf der Seite unseres Partners."],
        "datelines": ["(dpa) - ", "{city} (dpa) - ", "{CITY} (AFP) - "],
        "swaps": {"mehrere": "einige", "Anstieg": "Zuwachs", "Gespräche": "Verhandlungen",
                  "Journalisten": "Reportern", "Stimmung": "Atmosphäre", "Kritiker": "Gegner",
                  "weitere": "zusätzliche", "Sprecher": "Vertreter", "größte": "wichtigste",
                  "jüngsten": "neuesten", "Einzelheiten": "Details"},
        "extra": ["Dieser Artikel wurde um weitere Reaktionen ergänzt.",
                  "{p} will sich {day} auf einer Pressekonferenz äußern.",
                  "Unser Korrespondent in {city} beschrieb die Stimmung als {adj_mood}."],
        "caption": ("Video: {headline}. Die Aufnahmen entstanden in {city} {day}. Abonnieren Sie unseren Kanal "
                    "für weitere Videos. Der Videoplayer wird geladen, bitte warten."),
    },
}


@dataclass(frozen=True)
class Article:
    """One labelled article. `story` is the ground truth: equal stories are the same story."""

    id: int
    language: str
    story: str
    kind: str  # "original", "copy" or "short"
    title: str
    text: str
    event: str = ""
    source: int | None = None  # for a copy: the id of the article it copies
    outlet: str = ""
    edits: tuple[str, ...] = ()


@dataclass
class LabelledSet:
    """Articles plus their ground truth, as clusters (story -> article ids) and as pairs."""

    seed: int
    articles: list[Article]
    clusters: dict[str, list[int]] = field(init=False)
    pairs: frozenset[tuple[int, int]] = field(init=False)

    def __post_init__(self) -> None:
        by_story: dict[str, list[int]] = defaultdict(list)
        for a in self.articles:
            by_story[a.story].append(a.id)
        self.clusters = {s: ids for s, ids in sorted(by_story.items()) if len(ids) > 1}
        self.pairs = frozenset(p for ids in self.clusters.values() for p in combinations(sorted(ids), 2))

    def same_story(self, a: int, b: int) -> bool:
        return (min(a, b), max(a, b)) in self.pairs

    def hard_negative_pairs(self) -> list[tuple[int, int]]:
        """Pairs of different stories about the same event (both at least partly original text)."""
        by_event: dict[str, list[int]] = defaultdict(list)
        for a in self.articles:
            if a.event and a.kind == "original":
                by_event[a.event].append(a.id)
        return [p for ids in by_event.values() for p in combinations(sorted(ids), 2)]

    def to_json(self) -> dict[str, Any]:
        return {"seed": self.seed, "articles": [asdict(a) for a in self.articles],
                "clusters": self.clusters, "pairs": sorted(self.pairs)}


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    true_positives: int
    false_positives: int
    false_negatives: int


def score(predicted: Iterable[tuple[int, int]], labelled: LabelledSet) -> Scores:
    """Pairwise precision and recall of predicted same-story pairs (order within a pair ignored)."""
    found = {(min(a, b), max(a, b)) for a, b in predicted if a != b}
    tp = len(found & labelled.pairs)
    fp = len(found) - tp
    fn = len(labelled.pairs) - tp
    return Scores(tp / len(found) if found else 1.0, tp / len(labelled.pairs) if labelled.pairs else 1.0,
                  tp, fp, fn)


@dataclass(frozen=True)
class Evaluation:
    """What an index found on the labelled set: scores, and the work its lookups did."""

    scores: Scores
    found: frozenset[tuple[int, int]]  # the pairs predicted, (smaller id, larger id)
    lookups: int
    examined: int  # band-matching candidates read and compared, all lookups together
    spurious: int  # of those, candidates of another story
    unsigned: int  # articles too short for a signature


def evaluate(index: Any, labelled: LabelledSet, *, threshold: float | None = None) -> Evaluation:
    """Add the labelled articles to `index` (a `storage.similarity.SimilarityIndex` with its
    tables, empty) in order, looking each one up first, as the crawl will; score the pairs found.

    Typed `Any` so that this module stays free of newsmon imports.
    """
    predicted: list[tuple[int, int]] = []
    examined = spurious = lookups = unsigned = 0
    for article in labelled.articles:
        sig = index.hasher.signature(article.text)
        if sig is None:
            unsigned += 1
            continue
        lookups += 1
        everything = index.candidates(sig, threshold=0.0)
        examined += len(everything)
        spurious += sum(not labelled.same_story(article.id, c.article_id) for c in everything)
        predicted += [(article.id, c.article_id)
                      for c in index.candidates(sig, threshold=threshold)]
        index.add(article.id, sig)
    found = frozenset((min(a, b), max(a, b)) for a, b in predicted)
    return Evaluation(score(found, labelled), found, lookups, examined, spurious, unsigned)


class _Writer:
    """Fills the templates of one language for one event."""

    def __init__(self, lang: str, rng: random.Random, event: dict[str, Any]) -> None:
        self.lang = lang
        self.v = LANGUAGES[lang]
        self.rng = rng
        self.event = event

    def fill(self, template: str, **fixed: str) -> str:
        v, rng, e = self.v, self.rng, self.event
        (p, r), (p2, r2) = rng.sample(e["people"], 2)
        issue, issue2 = rng.sample(e["issues"], 2)
        values = {
            "p": p, "r": r, "p2": p2, "r2": r2, "issue": issue, "issue2": issue2,
            "action": rng.choice(e["actions"]), "unit": e["unit"], "city": e["city"], "CITY": e["city"].upper(),
            "org": rng.choice(e["orgs"]), "short": e["short"], "day": rng.choice(v["days"]),
            "said": rng.choice(v["said"]), "month": rng.choice(v["months"]),
            "num": str(rng.choice([rng.randint(12, 99), rng.randint(100, 950), rng.randint(1000, 9000)])),
            "pct": str(rng.randint(2, 48)), "small": str(rng.randint(2, 14)),
            "adj_state": rng.choice(v["adj_state"]), "adj_mood": rng.choice(v["adj_mood"]),
            "adj_eval": rng.choice(v["adj_eval"]),
        }
        values.update(fixed)
        for key in ("short", "day", "org"):
            values[key[0].upper() + key[1:]] = _capitalise(values[key])
        return template.format(**values)

    def headline(self) -> str:
        return self.fill(self.rng.choice(self.v["headlines"]))


def _capitalise(s: str) -> str:
    return s[:1].upper() + s[1:]


def _make_events(lang: str, rng: random.Random) -> list[dict[str, Any]]:
    v = LANGUAGES[lang]
    cities = rng.sample(v["cities"], EVENTS_PER_LANGUAGE)
    events = []
    for i, city in enumerate(cities):
        name, short, issues, actions, unit = v["events"][i % len(v["events"])]
        storm = rng.choice(STORM_NAMES)
        events.append({
            "id": f"{lang}-e{i}", "city": city, "name": name.format(city=city, storm=storm),
            "short": short, "issues": issues, "actions": actions, "unit": unit,
            "people": rng.sample(v["people"], 4), "orgs": rng.sample(v["orgs"], 3),
        })
    return events


def _story(lang: str, rng: random.Random, event: dict[str, Any], shared: dict[str, Any]) -> tuple[str, list[list[str]]]:
    """A headline and paragraphs (lists of sentences) about `event`."""
    w = _Writer(lang, rng, event)
    templates = rng.sample(LANGUAGES[lang]["sentences"], rng.randint(10, 15))
    # Each writer has a voice: a random half of the word pairs in `swaps` is used the other way
    # round, so two stories built on the same template do not share all its fixed words.
    voice = {k: v for k, v in LANGUAGES[lang]["swaps"].items() if rng.random() < 0.5}
    sentences = [_swap_all(w.fill(t), voice) for t in templates]
    paragraphs: list[list[str]] = []
    while sentences:
        n = rng.choice([2, 2, 3])
        paragraphs.append(sentences[:n])
        sentences = sentences[n:]
    if len(paragraphs[-1]) == 1 and len(paragraphs) > 1:
        paragraphs[-2] += paragraphs.pop()
    # Agency habits shared between the stories of one event: the same background paragraph and
    # the same official quote, word for word.
    if rng.random() < 0.7:
        paragraphs.insert(rng.randint(2, len(paragraphs)), list(shared["background"]))
    if rng.random() < 0.7:
        paragraphs.insert(rng.randint(1, 3), [shared["quote"]])
    return w.headline(), paragraphs


def _text(title: str | None, paragraphs: list[list[str]], top: Sequence[str] = (), end: Sequence[str] = ()) -> str:
    blocks = [*top, *([title] if title else []), *(" ".join(p) for p in paragraphs if p), *end]
    return "\n\n".join(blocks)


def _outlets(lang: str, rng: random.Random) -> list[dict[str, Any]]:
    v = LANGUAGES[lang]
    outlets = []
    for i in range(3):
        outlets.append({
            "id": f"{lang}-outlet{i}", "top": rng.sample(v["outlet_top"], rng.randint(0, 1)),
            "more": v["outlet_more"][i], "end": rng.sample(v["outlet_end"], rng.randint(1, 2)),
            "dateline": v["datelines"][i], "title": rng.random() < 0.7,
        })
    return outlets


def _swap_all(text: str, swaps: dict[str, str]) -> str:
    if not swaps:
        return text
    return re.sub(r"\b(" + "|".join(map(re.escape, swaps)) + r")\b", lambda m: swaps[m.group(0)], text)


def _swap_words(text: str, swaps: dict[str, str], rng: random.Random, n: int) -> tuple[str, int]:
    """Replace `n` whole-word occurrences of swap-table words (or numbers) at random positions."""
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, swaps)) + r"|\d+)\b")
    spots = list(pattern.finditer(text))
    chosen = sorted(rng.sample(spots, min(n, len(spots))), key=lambda m: m.start(), reverse=True)
    for m in chosen:
        word = m.group(0)
        new = str(int(word) + rng.randint(1, 9)) if word.isdigit() else swaps[word]
        text = text[:m.start()] + new + text[m.end():]
    return text, len(chosen)


def _copy(lang: str, rng: random.Random, original: Article, paragraphs: list[list[str]], event: dict[str, Any],
          outlet: dict[str, Any], other_headlines: list[str]) -> tuple[str, str, tuple[str, ...]]:
    v = LANGUAGES[lang]
    w = _Writer(lang, rng, event)
    paras = [list(p) for p in paragraphs]
    edits: list[str] = []
    while len(edits) < 2:
        edits = [name for name, p in (("headline", 0.7), ("add_sentence", 0.3), ("cut_sentence", 0.35),
                                      ("words", 0.6), ("reorder", 0.25), ("truncate", 0.3)) if rng.random() < p]
    title = original.title
    if "headline" in edits:
        title = w.headline()
        while title == original.title:
            title = w.headline()
    if "cut_sentence" in edits:
        long = [p for p in paras if len(p) > 1]
        target = rng.choice(long)
        target.pop(rng.randrange(len(target)))
    if "add_sentence" in edits:
        target = rng.choice(paras)
        target.insert(rng.randint(0, len(target)), w.fill(rng.choice(v["extra"])))
    if "reorder" in edits and len(paras) > 3:
        i = rng.randint(1, len(paras) - 2)
        paras[i], paras[i + 1] = paras[i + 1], paras[i]
    if "truncate" in edits:
        keep = max(3, math.ceil(len(paras) * rng.uniform(0.35, 0.8)))
        paras = paras[:keep]
    # The outlet's own boilerplate and dateline, on every copy it publishes.
    first = paras[0]
    first[0] = w.fill(outlet["dateline"]) + first[0]
    more = [outlet["more"].format(headline=h) for h in rng.sample(other_headlines, rng.randint(1, 2))]
    paras.insert(rng.randint(2, max(2, len(paras) - 1)), [more[0]])
    text = _text(title if outlet["title"] else None, paras, outlet["top"], [*more[1:], *outlet["end"]])
    if "words" in edits:
        text, _ = _swap_words(text, v["swaps"], rng, rng.randint(2, 5))
    return title, text, ("dateline", "boilerplate", *edits)


def build(seed: int = DEFAULT_SEED) -> LabelledSet:
    """The labelled set for `seed`: about 270 articles, 90 of them copies, 55 % in a multi-article story."""
    rng = random.Random(seed)
    articles: list[Article] = []
    for lang in LANGUAGES:
        v = LANGUAGES[lang]
        events = _make_events(lang, rng)
        outlets = _outlets(lang, rng)
        originals: list[tuple[Article, list[list[str]], dict[str, Any]]] = []
        for event in events:
            w = _Writer(lang, rng, event)
            shared = {"background": [w.fill(t) for t in v["background"]], "quote": w.fill(v["quote"])}
            for k in range(rng.randint(3, 5)):
                title, paragraphs = _story(lang, rng, event, shared)
                article = Article(len(articles), lang, f"{event['id']}-s{k}", "original", title,
                                  _text(title if rng.random() < 0.5 else None, paragraphs), event=event["id"])
                articles.append(article)
                originals.append((article, paragraphs, event))
        headlines = [a.title for a, _, _ in originals]
        for original, paragraphs, event in rng.sample(originals, 14):
            for outlet in rng.sample(outlets, rng.choice([1, 1, 1, 2, 2, 3])):
                title, text, edits = _copy(lang, rng, original, paragraphs, event, outlet, headlines)
                articles.append(Article(len(articles), lang, original.story, "copy", title, text,
                                        event=event["id"], source=original.id, outlet=outlet["id"], edits=edits))
        for i, event in enumerate(rng.sample(events, 4)):
            w = _Writer(lang, rng, event)
            headline = w.headline()
            articles.append(Article(len(articles), lang, f"{lang}-video{i}", "short", headline,
                                    w.fill(v["caption"], headline=headline), event=""))
    return LabelledSet(seed, articles)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--json", type=Path, help="write articles, clusters and pairs to this file")
    args = parser.parse_args()
    labelled = build(args.seed)
    kinds: dict[str, int] = defaultdict(int)
    for a in labelled.articles:
        kinds[f"{a.language} {a.kind}"] += 1
    print(f"{len(labelled.articles)} articles, {len(labelled.clusters)} multi-article stories, "
          f"{len(labelled.pairs)} true pairs, {len(labelled.hard_negative_pairs())} same-event pairs")
    print(", ".join(f"{k}: {n}" for k, n in sorted(kinds.items())))
    if args.json:
        args.json.write_text(json.dumps(labelled.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"written to {args.json}")


if __name__ == "__main__":
    main()
