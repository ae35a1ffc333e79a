// The upload panel's messages in the app's four languages (merged into the catalogues by
// i18n/*.ts; every language has exactly the English keys). Keys start with `upload.`.

export const uploadEn = {
  'upload.title': 'Add images',
  'upload.drop': 'Drop images here, or choose files',
  'upload.hint': 'JPEG, PNG, TIFF (also 16-bit, BigTIFF and multi-page) or WebP. Each image, or each page, becomes a subject.',
  'upload.choose': 'Choose files',
  'upload.progress': 'Upload progress',
  'upload.sending': 'Sending {current} of {total}: {name} ({percent}%)',
  'upload.converting': 'Preparing {name} for viewing…',
  'upload.done_one': 'Added {count} subject from {name}.',
  'upload.done_other': 'Added {count} subjects from {name}.',
  'upload.failed': '{name} was not added: {detail}',
  'upload.network': '{name} was not added: the connection to the server failed. Check the network and try again.',
  'upload.notImage': '{name} is not an image this server takes. Send a JPEG, PNG, TIFF or WebP file.',
} satisfies Record<string, string>;

export const uploadFr: Record<keyof typeof uploadEn, string> = {
  'upload.title': 'Ajouter des images',
  'upload.drop': 'Déposez des images ici, ou choisissez des fichiers',
  'upload.hint': 'JPEG, PNG, TIFF (aussi 16 bits, BigTIFF et multipage) ou WebP. Chaque image, ou chaque page, devient un sujet.',
  'upload.choose': 'Choisir des fichiers',
  'upload.progress': 'Progression de l’envoi',
  'upload.sending': 'Envoi {current} sur {total} : {name} ({percent} %)',
  'upload.converting': 'Préparation de {name} pour la consultation…',
  'upload.done_one': '{count} sujet ajouté depuis {name}.',
  'upload.done_other': '{count} sujets ajoutés depuis {name}.',
  'upload.failed': '{name} n’a pas été ajouté : {detail}',
  'upload.network': '{name} n’a pas été ajouté : la connexion au serveur a échoué. Vérifiez le réseau et réessayez.',
  'upload.notImage': '{name} n’est pas une image acceptée par ce serveur. Envoyez un fichier JPEG, PNG, TIFF ou WebP.',
};

export const uploadDe: Record<keyof typeof uploadEn, string> = {
  'upload.title': 'Bilder hinzufügen',
  'upload.drop': 'Bilder hier ablegen oder Dateien auswählen',
  'upload.hint': 'JPEG, PNG, TIFF (auch 16 Bit, BigTIFF und mehrseitig) oder WebP. Jedes Bild bzw. jede Seite wird ein Objekt.',
  'upload.choose': 'Dateien auswählen',
  'upload.progress': 'Fortschritt des Hochladens',
  'upload.sending': 'Sende {current} von {total}: {name} ({percent} %)',
  'upload.converting': '{name} wird für die Ansicht vorbereitet…',
  'upload.done_one': '{count} Objekt aus {name} hinzugefügt.',
  'upload.done_other': '{count} Objekte aus {name} hinzugefügt.',
  'upload.failed': '{name} wurde nicht hinzugefügt: {detail}',
  'upload.network': '{name} wurde nicht hinzugefügt: Die Verbindung zum Server ist fehlgeschlagen. Prüfen Sie das Netzwerk und versuchen Sie es erneut.',
  'upload.notImage': '{name} ist kein Bild, das dieser Server annimmt. Senden Sie eine JPEG-, PNG-, TIFF- oder WebP-Datei.',
};

export const uploadIt: Record<keyof typeof uploadEn, string> = {
  'upload.title': 'Aggiungi immagini',
  'upload.drop': 'Trascina qui le immagini, oppure scegli i file',
  'upload.hint': 'JPEG, PNG, TIFF (anche a 16 bit, BigTIFF e multipagina) o WebP. Ogni immagine, o ogni pagina, diventa un soggetto.',
  'upload.choose': 'Scegli i file',
  'upload.progress': 'Avanzamento del caricamento',
  'upload.sending': 'Invio {current} di {total}: {name} ({percent}%)',
  'upload.converting': 'Preparazione di {name} per la visualizzazione…',
  'upload.done_one': '{count} soggetto aggiunto da {name}.',
  'upload.done_other': '{count} soggetti aggiunti da {name}.',
  'upload.failed': '{name} non è stato aggiunto: {detail}',
  'upload.network': '{name} non è stato aggiunto: la connessione al server non è riuscita. Controlla la rete e riprova.',
  'upload.notImage': '{name} non è un’immagine accettata da questo server. Invia un file JPEG, PNG, TIFF o WebP.',
};
